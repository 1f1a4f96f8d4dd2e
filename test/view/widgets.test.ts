// Widgets on the widget protocol 2.1.0 (helpers/view/widgets.ts), driven as a frontend drives
// them, over the kernel as a function: models open with their state and references, a frontend's
// update is applied and echoed, request_state and request_states answer with the state, a click
// reaches the button, and interact re-runs its function and shows the result in its output.
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Message } from "../../kernel/protocol";
import { startInProcessKernel, type InProcessKernel } from "../support/in-process-kernel";
import { parentId, plain } from "../support/kernel-checks";

const root = join(__dirname, "..", "..");
const T = 30_000;
execFileSync(process.execPath, [join(root, "scripts", "link-self.js")]);

let kernel: InProcessKernel;
beforeAll(() => {
  kernel = startInProcessKernel();
});
afterAll(async () => {
  await kernel?.close();
});

const opened = (id: string) => (m: Message) => m.header.msg_type === "comm_open" && m.content.comm_id === id;
const msgsOf = (id: string, method: string) =>
  kernel.iopub.filter(
    (m) => m.header.msg_type === "comm_msg" && m.content.comm_id === id && m.content.data.method === method,
  );
const idOf = async (expr: string) => String(plain(await kernel.execute(expr))[0]).replace(/'/g, "");
const update = (id: string, state: object) =>
  kernel.notify("comm_msg", { comm_id: id, data: { method: "update", state, buffer_paths: [] } });

describe("a slider", () => {
  it(
    "opens on jupyter.widget with protocol 2.1.0, its state, and a layout and style opened before it",
    async () => {
      const r = await kernel.execute(
        'import { intSlider } from "wirebook/helpers/view/widgets";\n' +
          'const delay = intSlider({ value: 20, min: 0, max: 200, step: 5, description: "delay ms" });\ndelay',
      );
      expect(r.reply.status).toBe("ok");
      const view = r.outputs.find((o) => o.output_type === "execute_result");
      expect(view).toMatchObject({ data: { "application/vnd.jupyter.widget-view+json": { version_major: 2 } } });
      const id = await idOf("delay.id");
      const open = await kernel.waitFor(opened(id));
      expect(open.content.target_name).toBe("jupyter.widget");
      // ipywidgets reads the protocol version from the message's metadata, not from its content.
      expect(open.metadata).toEqual({ version: "2.1.0" });
      const { state } = open.content.data;
      expect(state).toMatchObject({
        _model_name: "IntSliderModel",
        _model_module: "@jupyter-widgets/controls",
        _model_module_version: "2.0.0",
        _view_name: "IntSliderView",
        value: 20,
        min: 0,
        max: 200,
        step: 5,
        description: "delay ms",
        readout_format: "d",
      });
      expect(open.content.data.buffer_paths).toEqual([]);
      // The layout and style it refers to were opened first, so a frontend can resolve them.
      const at = kernel.iopub.indexOf(open);
      for (const key of ["layout", "style"]) {
        const ref = String(state[key]);
        expect(ref).toMatch(/^IPY_MODEL_[0-9a-f]{32}$/);
        const target = kernel.iopub.findIndex(opened(ref.slice("IPY_MODEL_".length)));
        expect(target, key).toBeGreaterThanOrEqual(0);
        expect(target, key).toBeLessThan(at);
      }
    },
    T,
  );

  it(
    "a frontend's update is applied and echoed back with echo_update; the kernel's own is an update",
    async () => {
      const id = await idOf("delay.id");
      const sent = await update(id, { value: 75 });
      const echo = await kernel.waitFor((m) => parentId(m) === sent && m.header.msg_type === "comm_msg");
      expect(echo.content.data).toEqual({ method: "echo_update", state: { value: 75 }, buffer_paths: [] });
      expect(plain(await kernel.execute("delay.value"))).toEqual(["75"]);
      await kernel.execute("delay.value = 120;");
      expect(msgsOf(id, "update").at(-1)?.content.data.state).toEqual({ value: 120 });
    },
    T,
  );

  it(
    "request_state is answered with the whole state",
    async () => {
      const id = await idOf("delay.id");
      const sent = await kernel.notify("comm_msg", { comm_id: id, data: { method: "request_state" } });
      const answer = await kernel.waitFor((m) => parentId(m) === sent && m.header.msg_type === "comm_msg");
      expect(answer.content.data.method).toBe("update");
      expect(answer.content.data.state).toMatchObject({ _model_name: "IntSliderModel", value: 120, max: 200 });
    },
    T,
  );
});

describe("controls", () => {
  it(
    "a dropdown's value follows the index a frontend sends; a click reaches the button",
    async () => {
      await kernel.execute(
        'import { button, dropdown } from "wirebook/helpers/view/widgets";\n' +
          'const cc = dropdown({ options: ["reno", "cubic", "bbr"], value: "cubic", description: "cc" });\n' +
          'let clicks = 0;\nconst go = button("run");\ngo.onClick(() => clicks++);',
      );
      expect(plain(await kernel.execute("cc.value"))).toEqual(["'cubic'"]);
      await update(await idOf("cc.id"), { index: 2 });
      expect(plain(await kernel.execute("cc.value"))).toEqual(["'bbr'"]);
      const goId = await idOf("go.id");
      await kernel.notify("comm_msg", { comm_id: goId, data: { method: "custom", content: { event: "click" } } });
      await kernel.notify("comm_msg", { comm_id: goId, data: { method: "custom", content: { event: "click" } } });
      expect(plain(await kernel.execute("clicks"))).toEqual(["2"]);
    },
    T,
  );

  it(
    "bad options are one clear error",
    async () => {
      const r = await kernel.execute('dropdown({ options: ["a"], value: "b" })');
      expect(r.reply.status).toBe("error");
      expect(r.reply.evalue).toBe('"b" is not one of the options');
    },
    T,
  );
});

describe("interact", () => {
  it(
    "runs the function now and again when a control changes, showing the result in its output",
    async () => {
      const r = await kernel.execute(
        [
          'import { floatSlider, interact, intSlider } from "wirebook/helpers/view/widgets";',
          "const shown = interact({ n: intSlider({ value: 2, max: 10 }), f: floatSlider({ value: 0.5 }) },",
          "  ({ n, f }) => `n*f = ${n * f}`);",
          "await shown.update();",
          "[shown.output.id, shown.controls.n.id, shown.runs]",
        ].join("\n"),
      );
      expect(r.reply.status).toBe("ok");
      const [out, n, runs] = JSON.parse(String(plain(r)[0]).replace(/'/g, '"'));
      expect(runs).toBeGreaterThanOrEqual(1);
      const outputsOf = () => msgsOf(out, "update").map((m) => m.content.data.state.outputs);
      expect(outputsOf().at(-1)).toEqual([
        { output_type: "display_data", data: { "text/plain": "'n*f = 1'" }, metadata: {} },
      ]);
      await update(n, { value: 8 });
      await kernel.execute("await shown.update();");
      expect(outputsOf().at(-1)).toEqual([
        { output_type: "display_data", data: { "text/plain": "'n*f = 4'" }, metadata: {} },
      ]);
      // The box (controls above the output) was displayed in the cell.
      const box = r.outputs.find((o) => o.output_type === "display_data");
      expect(box).toMatchObject({ data: { "application/vnd.jupyter.widget-view+json": { version_minor: 0 } } });
    },
    T,
  );
});

describe("the control comm", () => {
  it(
    "request_states answers with every model's state, as a frontend asks on (re)connecting",
    async () => {
      await kernel.notify("comm_open", { comm_id: "ctl-1", target_name: "jupyter.widget.control", data: {} });
      const sent = await kernel.notify("comm_msg", { comm_id: "ctl-1", data: { method: "request_states" } });
      const answer = await kernel.waitFor((m) => parentId(m) === sent && m.header.msg_type === "comm_msg");
      expect(answer.content.data.method).toBe("update_states");
      const states = Object.values(answer.content.data.states) as Array<Record<string, any>>;
      const slider = states.find((s) => s.state.description === "delay ms");
      expect(slider).toMatchObject({
        model_name: "IntSliderModel",
        model_module: "@jupyter-widgets/controls",
        model_module_version: "2.0.0",
        state: { value: 120 },
      });
      expect(states.some((s) => s.model_name === "LayoutModel" && s.model_module === "@jupyter-widgets/base")).toBe(
        true,
      );
    },
    T,
  );
});
