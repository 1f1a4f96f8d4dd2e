// Jupyter comms both ways (kernel/comms.ts), on the kernel as a function: a frontend opens a comm
// on a target a cell registered, messages and binary buffers cross both ways, comm_info lists the
// open comms by target, either side closes; a comm the kernel opens reaches the frontend.
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

const ofType = (type: string, id: string) => (m: Message) => m.header.msg_type === type && m.content.comm_id === id;

describe("comms opened by a frontend", () => {
  it(
    "a target nobody registered: the kernel answers with comm_close, inside busy/idle",
    async () => {
      const id = await kernel.notify("comm_open", { comm_id: "c-unknown", target_name: "nobody", data: {} });
      const close = await kernel.waitFor(ofType("comm_close", "c-unknown"));
      expect(parentId(close)).toBe(id);
      const traffic = await kernel.settled(id);
      expect(traffic.map((m) => m.header.msg_type)).toEqual(["status", "comm_close", "status"]);
    },
    T,
  );

  it(
    "a registered target: data and buffers both ways, comm_info by target, closed by the frontend",
    async () => {
      const setup = await kernel.execute(
        [
          'import { registerCommTarget } from "wirebook/helpers";',
          "const commLog: string[] = [];",
          'registerCommTarget("echo", (comm, opened) => {',
          "  commLog.push(`open ${JSON.stringify(opened.data)}`);",
          "  comm.onMessage((m) => comm.send({ got: m.data, sizes: m.buffers.map((b) => b.length) },",
          "    { buffers: m.buffers.map((b) => Buffer.from([...b].reverse())) }));",
          "  comm.onClose((m) => commLog.push(`closed ${JSON.stringify(m.data)}`));",
          "});",
        ].join("\n"),
      );
      expect(setup.reply.status).toBe("ok");
      await kernel.notify("comm_open", { comm_id: "c-echo", target_name: "echo", data: { hello: 1 } });
      const msg = await kernel.notify("comm_msg", { comm_id: "c-echo", data: { n: 7 } }, [Buffer.from([1, 2, 3])]);
      const answer = await kernel.waitFor((m) => ofType("comm_msg", "c-echo")(m) && parentId(m) === msg);
      expect(answer.content.data).toEqual({ got: { n: 7 }, sizes: [3] });
      expect(answer.buffers.map((b) => [...b])).toEqual([[3, 2, 1]]);

      const all = await kernel.call("comm_info_request", {});
      expect(all.content.comms).toMatchObject({ "c-echo": { target_name: "echo" } });
      const none = await kernel.call("comm_info_request", { target_name: "other" });
      expect(none.content.comms).toEqual({});
      const echo = await kernel.call("comm_info_request", { target_name: "echo" });
      expect(Object.keys(echo.content.comms)).toEqual(["c-echo"]);

      await kernel.notify("comm_close", { comm_id: "c-echo", data: { bye: true } });
      const after = await kernel.call("comm_info_request", { target_name: "echo" });
      expect(after.content.comms).toEqual({});
      expect(plain(await kernel.execute("commLog"))).toEqual([`[ 'open {"hello":1}', 'closed {"bye":true}' ]`]);
    },
    T,
  );

  it(
    "a handler that throws is an error output of that message; the kernel carries on",
    async () => {
      await kernel.execute(
        'import { registerCommTarget } from "wirebook/helpers";\n' +
          'registerCommTarget("broken", () => { throw new Error("handler broke"); });',
      );
      const id = await kernel.notify("comm_open", { comm_id: "c-broken", target_name: "broken", data: {} });
      const err = await kernel.waitFor((m) => m.header.msg_type === "error" && parentId(m) === id);
      expect(err.content.evalue).toBe("handler broke");
      expect(plain(await kernel.execute("1 + 1"))).toEqual(["2"]);
    },
    T,
  );
});

describe("comms opened by the kernel", () => {
  it(
    "comm_open, comm_msg with buffers and comm_close reach the frontend from the cell",
    async () => {
      const r = await kernel.execute(
        [
          'import { openComm } from "wirebook/helpers";',
          'const k2f = openComm("wirebook.test", { first: true }, { metadata: { version: "1" } });',
          'k2f.send({ n: 1 }, { buffers: [Buffer.from("abc")] });',
          "k2f.close({ done: true });",
          "k2f.send({ n: 2 }); // after close: not sent",
          "k2f.id",
        ].join("\n"),
      );
      const id = String(plain(r)[0]).replace(/'/g, "");
      const open = await kernel.waitFor(ofType("comm_open", id));
      expect(open.content).toEqual({
        comm_id: id,
        target_name: "wirebook.test",
        data: { first: true },
      });
      // The metadata is the message's own, where ipywidgets reads the widget protocol version.
      expect(open.metadata).toEqual({ version: "1" });
      const sent = kernel.iopub.filter(ofType("comm_msg", id));
      expect(sent.map((m) => m.content.data)).toEqual([{ n: 1 }]);
      expect(sent[0].buffers.map((b) => b.toString())).toEqual(["abc"]);
      const closed = await kernel.waitFor(ofType("comm_close", id));
      expect(closed.content.data).toEqual({ done: true });
      const info = await kernel.call("comm_info_request", {});
      expect(Object.keys(info.content.comms)).not.toContain(id);
    },
    T,
  );
});
