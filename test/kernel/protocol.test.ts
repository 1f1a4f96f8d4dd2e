// Protocol tests of the wirebook kernel over real zeromq sockets: replies and their status,
// iopub traffic, errors and tracebacks, stop_on_error, rich display, interrupts, shutdown and
// restart, late errors from callbacks, HMAC checking, completion/inspection and the heartbeat.
import { randomUUID } from "node:crypto";
import { execFileSync } from "node:child_process";
import { connect } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as zmq from "zeromq";
import { KernelClient, type Execution } from "../../kernel/client";
import { endpoint } from "../../kernel/connection";
import { decode, encode, newHeader, Signer, type Message } from "../../kernel/protocol";

const root = join(__dirname, "..", "..");
const T = 30_000;
// Cells import `wirebook/helpers/...` through node_modules/wirebook -> .. (made on npm install).
execFileSync(process.execPath, [join(root, "scripts", "link-self.js")]);

const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Rejects with `what` if `p` has not settled within `ms` (a guard against hanging, not a timing check). */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>(
      (_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms)),
    ),
  ]);
}

const parentId = (m: Message) => (m.parent_header as any).msg_id as string | undefined;

/** An independent iopub subscriber: sees every message the kernel publishes, whoever asked. */
class IopubTap {
  readonly messages: Message[] = [];
  private readonly sock = new zmq.Subscriber();
  private listeners = new Set<() => void>();

  constructor(private readonly client: KernelClient) {
    const signer = new Signer(client.info.key, client.info.signature_scheme);
    this.sock.linger = 0;
    this.sock.connect(endpoint(client.info, client.info.iopub_port));
    this.sock.subscribe();
    void (async () => {
      try {
        for await (const frames of this.sock) {
          this.messages.push(decode(frames as Buffer[], signer));
          for (const l of this.listeners) l();
        }
      } catch {
        // closed
      }
    })();
  }

  /** Waits until the subscription is live (a PUB socket drops messages for late joiners). */
  async ready() {
    for (let i = 0; i < 40; i++) {
      const reply = await this.client.call("shell", "kernel_info_request", {});
      const found = await this.waitFor(
        (m) => parentId(m) === parentId(reply) && m.header.msg_type === "status",
        500,
      ).catch(() => null);
      if (found) return;
    }
    throw new Error("iopub tap never saw a status message");
  }

  byParent(id: string): Message[] {
    return this.messages.filter((m) => parentId(m) === id);
  }

  waitFor(pred: (m: Message) => boolean, ms = 10_000): Promise<Message> {
    const hit = this.messages.find(pred);
    if (hit) return Promise.resolve(hit);
    return within(
      new Promise<Message>((resolve) => {
        const check = () => {
          const m = this.messages.find(pred);
          if (m) {
            this.listeners.delete(check);
            resolve(m);
          }
        };
        this.listeners.add(check);
      }),
      ms,
      "iopub message",
    );
  }

  /** The request's iopub traffic, once its idle status has arrived. */
  async settled(id: string): Promise<Message[]> {
    await this.waitFor(
      (m) => parentId(m) === id && m.header.msg_type === "status" && m.content.execution_state === "idle",
    );
    return this.byParent(id);
  }

  close() {
    this.sock.close();
  }
}

/** busy first, idle last, exactly one of each, every message parented by the request. */
function expectBracketed(traffic: Message[], id: string) {
  expect(traffic.length).toBeGreaterThanOrEqual(2);
  for (const m of traffic) expect(parentId(m)).toBe(id);
  const states = traffic.filter((m) => m.header.msg_type === "status").map((m) => m.content.execution_state);
  expect(states).toEqual(["busy", "idle"]);
  expect(traffic[0].header.msg_type).toBe("status");
  expect(traffic[0].content.execution_state).toBe("busy");
  expect(traffic.at(-1)!.header.msg_type).toBe("status");
  expect(traffic.at(-1)!.content.execution_state).toBe("idle");
}

/** client.execute, plus the request's msg_id and the raw iopub messages it saw. */
async function run(client: KernelClient, code: string, options: { stopOnError?: boolean } = {}) {
  const raw: Message[] = [];
  const result = await client.execute(code, { ...options, onIopub: (m) => raw.push(m) });
  return { ...result, raw, id: raw.length ? parentId(raw[0])! : undefined };
}

const plain = (e: Execution) =>
  e.outputs.flatMap((o) => (o.output_type === "execute_result" ? [o.data["text/plain"]] : []));
const streams = (e: Execution) => e.outputs.flatMap((o) => (o.output_type === "stream" ? [o.text] : [])).join("");
const errors = (e: Execution) =>
  e.outputs.filter((o) => o.output_type === "error") as Array<{ ename: string; evalue: string; traceback: string[] }>;

async function expectWorks(client: KernelClient) {
  const r = await client.execute("1 + 1");
  expect(r.reply.status).toBe("ok");
  expect(r.outputs).toEqual([
    {
      output_type: "execute_result",
      execution_count: r.reply.execution_count,
      data: { "text/plain": "2" },
      metadata: {},
    },
  ]);
}

describe("a running kernel", () => {
  let client: KernelClient;
  let tap: IopubTap;

  beforeAll(async () => {
    client = await KernelClient.start({ cwd: root });
    tap = new IopubTap(client);
    await tap.ready();
  });
  afterAll(async () => {
    tap?.close();
    await client?.shutdown();
  });

  describe("replies", () => {
    it(
      "kernel_info_reply on shell and on control",
      async () => {
        for (const channel of ["shell", "control"] as const) {
          const reply = await client.call(channel, "kernel_info_request", {});
          expect(reply.header.msg_type).toBe("kernel_info_reply");
          expect(reply.content.status).toBe("ok");
          expect(reply.content.protocol_version).toBe("5.3");
          expect(reply.content.implementation).toBe("wirebook");
          expect(reply.content.language_info).toMatchObject({ name: "typescript", file_extension: ".ts" });
          expect(typeof reply.content.banner).toBe("string");
          expectBracketed(await tap.settled(parentId(reply)!), parentId(reply)!);
        }
      },
      T,
    );

    const requests: Array<[string, "shell" | "control", string, object, string]> = [
      ["comm_info_request", "shell", "comm_info_reply", { target_name: "x" }, "ok"],
      ["history_request", "shell", "history_reply", { hist_access_type: "tail", n: 5, output: false, raw: true }, "ok"],
      ["complete_request", "shell", "complete_reply", { code: "Mat", cursor_pos: 3 }, "ok"],
      ["inspect_request", "shell", "inspect_reply", { code: "Math", cursor_pos: 2, detail_level: 0 }, "ok"],
      ["is_complete_request", "shell", "is_complete_reply", { code: "const a = 1;" }, "complete"],
      ["is_complete_request", "shell", "is_complete_reply", { code: "function f() {" }, "incomplete"],
      [
        "execute_request",
        "shell",
        "execute_reply",
        {
          code: "const statusProbe = 1;",
          silent: false,
          store_history: true,
          user_expressions: {},
          allow_stdin: false,
          stop_on_error: true,
        },
        "ok",
      ],
      ["interrupt_request", "control", "interrupt_reply", {}, "ok"],
    ];
    it.each(requests)(
      "%s on %s: %s carries status, busy/idle bracket it",
      async (type, channel, replyType, content, status) => {
        const reply = await client.call(channel, type, content);
        expect(reply.header.msg_type).toBe(replyType);
        expect(reply.content.status).toBe(status);
        expectBracketed(await tap.settled(parentId(reply)!), parentId(reply)!);
      },
      T,
    );

    it(
      "comm_info and history replies have their content",
      async () => {
        expect((await client.call("shell", "comm_info_request", {})).content.comms).toEqual({});
        const code = "const historyProbe = 41 + 1;";
        await client.execute(code);
        const reply = await client.call("shell", "history_request", {
          hist_access_type: "tail",
          n: 1,
          output: false,
          raw: true,
        });
        expect(reply.content.history).toHaveLength(1);
        expect(reply.content.history[0]).toHaveLength(3);
        expect(reply.content.history[0][2]).toBe(code);
        const [session, line] = reply.content.history[0];

        // output: true gives (session, line, (input, output)) entries
        const withOutput = await client.call("shell", "history_request", {
          hist_access_type: "tail",
          n: 1,
          output: true,
          raw: true,
        });
        expect(withOutput.content.history).toEqual([[session, line, [code, null]]]);
        const range = await client.call("shell", "history_request", {
          hist_access_type: "range",
          session,
          start: line,
          stop: line + 1,
          output: false,
          raw: true,
        });
        expect(range.content.history).toEqual([[session, line, code]]);

        // search matches a glob over the whole source; unique lists each source once, at its last run
        await client.execute(code);
        const all = await client.call("shell", "history_request", {
          hist_access_type: "search",
          pattern: "const historyProbe*",
          output: false,
          raw: true,
        });
        expect(all.content.history.map((h: any[]) => h[2])).toEqual([code, code]);
        const unique = await client.call("shell", "history_request", {
          hist_access_type: "search",
          pattern: "const historyProbe*",
          unique: true,
          output: false,
          raw: true,
        });
        expect(unique.content.history).toEqual([[session, line + 1, code]]);
      },
      T,
    );
  });

  describe("execution", () => {
    it(
      "publishes execute_input and brackets the cell with busy/idle",
      async () => {
        const code = "const inputProbe = 20;\ninputProbe + 1";
        const r = await run(client, code);
        expect(r.reply.status).toBe("ok");
        const count = r.reply.execution_count;
        expect(Number.isInteger(count)).toBe(true);
        const traffic = await tap.settled(r.id!);
        expectBracketed(traffic, r.id!);
        const inputs = traffic.filter((m) => m.header.msg_type === "execute_input");
        expect(inputs).toHaveLength(1);
        expect(inputs[0].content).toEqual({ code, execution_count: count });
        expect(traffic.map((m) => m.header.msg_type)).toEqual(["status", "execute_input", "execute_result", "status"]);
      },
      T,
    );

    it(
      "execution counts increase by one per stored cell",
      async () => {
        const a = await client.execute("1");
        const b = await client.execute("2");
        expect(b.reply.execution_count).toBe(a.reply.execution_count + 1);
      },
      T,
    );

    it(
      "returns the last expression as execute_result text/plain, not as stdout",
      async () => {
        const r = await run(client, "const lastA = 6;\nlastA * 7");
        expect(r.outputs).toEqual([
          {
            output_type: "execute_result",
            execution_count: r.reply.execution_count,
            data: { "text/plain": "42" },
            metadata: {},
          },
        ]);
        expect(r.raw.filter((m) => m.header.msg_type === "stream")).toEqual([]);
        const s = await client.execute('"a string"');
        expect(plain(s)).toEqual(["'a string'"]);
        expect(streams(s)).toBe("");
      },
      T,
    );

    it(
      "stdout is a stream output, separate from the result",
      async () => {
        const r = await client.execute('console.log("printed");\n"value"');
        expect(r.outputs).toEqual([
          { output_type: "stream", name: "stdout", text: "printed\n" },
          {
            output_type: "execute_result",
            execution_count: r.reply.execution_count,
            data: { "text/plain": "'value'" },
            metadata: {},
          },
        ]);
      },
      T,
    );

    it(
      "a cell ending in undefined has no execute_result",
      async () => {
        for (const code of ["undefined", "const noResult = 3;\nundefined", "void 0"]) {
          const r = await run(client, code);
          expect(r.reply.status).toBe("ok");
          expect(r.outputs).toEqual([]);
          expect(r.raw.filter((m) => m.header.msg_type === "execute_result")).toEqual([]);
        }
      },
      T,
    );
  });

  describe("errors", () => {
    async function expectError(code: string, ename: string, evalue: string | RegExp) {
      const r = await run(client, code);
      expect(r.reply.status).toBe("error");
      expect(r.reply.ename).toBe(ename);
      if (typeof evalue === "string") expect(r.reply.evalue).toBe(evalue);
      else expect(r.reply.evalue).toMatch(evalue);
      expect(Array.isArray(r.reply.traceback)).toBe(true);
      const published = r.raw.filter((m) => m.header.msg_type === "error");
      expect(published).toHaveLength(1);
      const err = published[0].content;
      expect(err.ename).toBe(r.reply.ename);
      expect(err.evalue).toBe(r.reply.evalue);
      expect(Array.isArray(err.traceback)).toBe(true);
      expect(err.traceback.length).toBeGreaterThan(0);
      for (const line of err.traceback) expect(typeof line).toBe("string");
      expect(r.raw.filter((m) => m.header.msg_type === "execute_result")).toEqual([]);
      return { r, err };
    }

    it(
      "a thrown exception: error message, status error, traceback names the cell line",
      async () => {
        const { r, err } = await expectError(
          'const first = 1;\nconst second = first + 1;\nthrow new TypeError("thrown on line 3");\n',
          "TypeError",
          "thrown on line 3",
        );
        const count = r.reply.execution_count;
        expect(err.traceback.some((l: string) => l.includes(`Cell [${count}], line 3`))).toBe(true);
        expect(err.traceback.some((l: string) => /Cell \[\d+\], line [12]\b/.test(l))).toBe(false);
      },
      T,
    );

    it(
      "a throw inside a function reports the line of the throw and of the call",
      async () => {
        const code = ["function fails() {", '  throw new Error("deep");', "}", "", "fails();"].join("\n");
        const { r, err } = await expectError(code, "Error", "deep");
        const count = r.reply.execution_count;
        const tb = err.traceback.join("\n");
        expect(tb).toContain(`Cell [${count}], line 2`);
        expect(tb).toContain(`Cell [${count}], line 5`);
      },
      T,
    );

    it(
      "a rejected top-level await",
      async () => {
        const { r, err } = await expectError(
          'await delayReject();\nasync function delayReject() {\n  await new Promise((r) => setTimeout(r, 10));\n  throw new RangeError("rejected await");\n}',
          "RangeError",
          "rejected await",
        );
        expect(err.traceback.join("\n")).toContain(`Cell [${r.reply.execution_count}], line 4`);
        await expectError('await Promise.reject(new Error("plain rejection"));', "Error", "plain rejection");
      },
      T,
    );

    it(
      "a TypeScript type error, and the cell does not run",
      async () => {
        const { r, err } = await expectError(
          'console.log("must not run");\nconst typed: string = 42;',
          "TSError",
          /not assignable to type 'string'/,
        );
        expect(err.traceback.join("\n")).toMatch(/line 2/);
        expect(streams(r)).toBe("");
        // `typed` was never declared: referring to it is itself a type error
        const later = await client.execute("typed");
        expect(later.reply.status).toBe("error");
        expect(later.reply.ename).toBe("TSError");
        expect(later.reply.evalue).toContain("typed");
      },
      T,
    );

    it(
      "stop_on_error: requests queued behind a failing cell are aborted",
      async () => {
        const first = client.execute('await new Promise((r) => setTimeout(r, 300));\nthrow new Error("first fails");');
        const second = client.execute('console.log("second ran");\n2');
        const third = client.execute('console.log("third ran");\n3');
        const [a, b, c] = await Promise.all([first, second, third]);
        expect(a.reply.status).toBe("error");
        expect(a.reply.evalue).toBe("first fails");
        for (const queued of [b, c]) {
          expect(queued.reply.status).toBe("aborted");
          expect(queued.outputs).toEqual([]);
        }
        await expectWorks(client);
      },
      T,
    );

    it(
      "stop_on_error false: queued requests still run",
      async () => {
        const opts = { stopOnError: false };
        const first = client.execute(
          'await new Promise((r) => setTimeout(r, 300));\nthrow new Error("first fails again");',
          opts,
        );
        const second = client.execute('console.log("second ran");\n2', opts);
        const third = client.execute('console.log("third ran");\n3', opts);
        const [a, b, c] = await Promise.all([first, second, third]);
        expect(a.reply.status).toBe("error");
        expect(b.reply.status).toBe("ok");
        expect(c.reply.status).toBe("ok");
        expect(streams(b)).toBe("second ran\n");
        expect(plain(b)).toEqual(["2"]);
        expect(streams(c)).toBe("third ran\n");
        expect(plain(c)).toEqual(["3"]);
        expect(c.reply.execution_count).toBe(b.reply.execution_count + 1);
      },
      T,
    );
  });

  describe("rich display", () => {
    it(
      "JSON mime types arrive as JSON objects, from objects and from JSON strings",
      async () => {
        const code = [
          'import { displayBundle } from "wirebook/helpers/display";',
          'displayBundle({ "application/json": { a: 1, nested: { b: [1, 2] } } });',
          'displayBundle({ "application/json": \'{"fromString": true}\' });',
          'displayBundle({ "application/vnd.vegalite.v5+json": { mark: "bar", data: { values: [{ x: 1 }] } }, "text/plain": "chart" });',
          'displayBundle({ "application/vnd.vegalite.v5+json": \'{"mark":"point"}\' });',
        ].join("\n");
        const r = await run(client, code);
        expect(r.reply.status).toBe("ok");
        const wire = r.raw.filter((m) => m.header.msg_type === "display_data").map((m) => m.content.data);
        const expected = [
          { "application/json": { a: 1, nested: { b: [1, 2] } } },
          { "application/json": { fromString: true } },
          { "application/vnd.vegalite.v5+json": { mark: "bar", data: { values: [{ x: 1 }] } }, "text/plain": "chart" },
          { "application/vnd.vegalite.v5+json": { mark: "point" } },
        ];
        expect(wire).toEqual(expected);
        expect(r.outputs.map((o) => o.output_type)).toEqual([
          "display_data",
          "display_data",
          "display_data",
          "display_data",
        ]);
        expect(r.outputs.map((o) => (o as any).data)).toEqual(expected);
      },
      T,
    );

    it(
      "a display_id update arrives as update_display_data and rewrites the output",
      async () => {
        const code = [
          'import { liveDisplay } from "wirebook/helpers/display";',
          'const live = liveDisplay("first version");',
          'live.update({ "step": 2 });',
          "(globalThis as any).liveForLater = live;",
          "undefined",
        ].join("\n");
        const r = await run(client, code);
        expect(r.reply.status).toBe("ok");
        const shown = r.raw.filter((m) => m.header.msg_type === "display_data");
        const updates = r.raw.filter((m) => m.header.msg_type === "update_display_data");
        expect(shown).toHaveLength(1);
        expect(updates).toHaveLength(1);
        const id = shown[0].content.transient?.display_id;
        expect(typeof id).toBe("string");
        expect(id.length).toBeGreaterThan(0);
        expect(updates[0].content.transient.display_id).toBe(id);
        expect(shown[0].content.data).toEqual({ "text/plain": "'first version'" });
        expect(updates[0].content.data).toEqual({ "text/plain": "{ step: 2 }" });
        expect(r.outputs).toEqual([
          { output_type: "display_data", data: { "text/plain": "{ step: 2 }" }, metadata: {} },
        ]);

        // An update from a later cell rewrites the earlier cell's output, and adds none to its own.
        const later = await run(client, '(globalThis as any).liveForLater.update("third version");');
        expect(later.reply.status).toBe("ok");
        const laterUpdates = later.raw.filter((m) => m.header.msg_type === "update_display_data");
        expect(laterUpdates.map((m) => m.content.transient.display_id)).toEqual([id]);
        expect(later.outputs).toEqual([]);
        expect(r.outputs).toEqual([
          { output_type: "display_data", data: { "text/plain": "'third version'" }, metadata: {} },
        ]);
      },
      T,
    );

    it(
      "clear_output clears what came before, now or at the next output (wait)",
      async () => {
        const now = await run(
          client,
          'import { clearOutput } from "wirebook/helpers/display";\nconsole.log("before");\nclearOutput();\nconsole.log("after");',
        );
        expect(now.raw.filter((m) => m.header.msg_type === "clear_output").map((m) => m.content)).toEqual([
          { wait: false },
        ]);
        expect(now.outputs).toEqual([{ output_type: "stream", name: "stdout", text: "after\n" }]);

        const wait = await run(
          client,
          'import { clearOutput } from "wirebook/helpers/display";\nconsole.log("old");\nclearOutput(true);\nconsole.log("new");',
        );
        expect(wait.raw.filter((m) => m.header.msg_type === "clear_output").map((m) => m.content)).toEqual([
          { wait: true },
        ]);
        expect(wait.outputs).toEqual([{ output_type: "stream", name: "stdout", text: "new\n" }]);
      },
      T,
    );

    it(
      "a value with a Jupyter.display method displays as its bundle",
      async () => {
        const code = [
          "class Chart {",
          '  [Symbol.for("Jupyter.display")]() {',
          '    return { "text/html": "<b>chart</b>", "application/vnd.vegalite.v5+json": { mark: "line" } };',
          "  }",
          "}",
          "new Chart()",
        ].join("\n");
        const r = await run(client, code);
        expect(r.reply.status).toBe("ok");
        expect(r.outputs).toEqual([
          {
            output_type: "execute_result",
            execution_count: r.reply.execution_count,
            data: { "text/html": "<b>chart</b>", "application/vnd.vegalite.v5+json": { mark: "line" } },
            metadata: {},
          },
        ]);
        expect(streams(r)).toBe("");
      },
      T,
    );
  });

  describe("errors from callbacks", () => {
    it(
      "a timer that throws while its cell runs is an error output of that cell; the kernel survives",
      async () => {
        const code =
          'setTimeout(() => {\n  throw new Error("late in cell");\n}, 50);\nawait new Promise((r) => setTimeout(r, 1000));\n"cell finished"';
        const r = await run(client, code);
        expect(r.reply.status).toBe("ok");
        const errs = errors(r);
        expect(errs.map((e) => [e.ename, e.evalue])).toEqual([["Error", "late in cell"]]);
        expect(errs[0].traceback.join("\n")).toContain(`Cell [${r.reply.execution_count}], line 2`);
        expect(plain(r)).toEqual(["'cell finished'"]);
        expect(client.alive).toBe(true);
        await expectWorks(client);
      },
      T,
    );

    it(
      "a callback of a finished cell that throws while another cell runs is reported there",
      async () => {
        const a = await run(
          client,
          'const poll = setInterval(() => {\n  if ((globalThis as any).goLate) {\n    clearInterval(poll);\n    throw new Error("late from earlier cell");\n  }\n}, 20);\n"armed"',
        );
        expect(a.reply.status).toBe("ok");
        const b = await run(
          client,
          '(globalThis as any).goLate = true;\nawait new Promise((r) => setTimeout(r, 1000));\n"b done"',
        );
        expect(b.reply.status).toBe("ok");
        expect(errors(b).map((e) => e.evalue)).toEqual(["late from earlier cell"]);
        expect(plain(b)).toEqual(["'b done'"]);
        await expectWorks(client);
      },
      T,
    );

    it(
      "a timer error after its cell finished goes to the last cell's parent and does not kill the kernel",
      async () => {
        const a = await run(
          client,
          'setTimeout(() => {\n  throw new Error("after the cell");\n}, 300);\nsetTimeout(() => Promise.reject(new Error("late rejection")), 400);\n"a done"',
        );
        expect(a.reply.status).toBe("ok");
        expect(errors(a)).toEqual([]); // the cell finished before its timers fired
        const thrown = await tap.waitFor((m) => m.header.msg_type === "error" && m.content.evalue === "after the cell");
        const rejected = await tap.waitFor(
          (m) => m.header.msg_type === "error" && m.content.evalue === "late rejection",
        );
        expect(parentId(thrown)).toBe(a.id);
        expect(parentId(rejected)).toBe(a.id);
        expect(thrown.content.ename).toBe("Error");
        expect(Array.isArray(thrown.content.traceback)).toBe(true);
        expect(client.alive).toBe(true);
        expect(await client.heartbeat()).toBe(true);
        await expectWorks(client);
      },
      T,
    );
  });

  describe("HMAC signatures", () => {
    const request = (type: string, content: object = {}) => ({
      identities: [] as Buffer[],
      header: newHeader(type, client.session, "hmac-test"),
      parent_header: {},
      metadata: {},
      content,
    });
    const execContent = (code: string) => ({
      code,
      silent: false,
      store_history: true,
      user_expressions: {},
      allow_stdin: false,
      stop_on_error: true,
    });

    it(
      "drops a badly signed message: no reply, no iopub traffic, not run; the kernel carries on",
      async () => {
        const wrong = new Signer(`wrong-${randomUUID()}`, "hmac-sha256");
        const before = await client.execute("0");

        const badInfo = request("kernel_info_request");
        const badExec = request("execute_request", execContent('console.log("BAD SIGNATURE RAN")'));
        const badControl = request("kernel_info_request");
        const unsigned = request("execute_request", execContent('console.log("UNSIGNED RAN")'));
        await client.sendRaw("shell", encode(badInfo, wrong));
        await client.sendRaw("shell", encode(badExec, wrong));
        await client.sendRaw("control", encode(badControl, wrong));
        const unsignedFrames = encode(unsigned, wrong);
        unsignedFrames[1] = Buffer.from(""); // the signature frame after <IDS|MSG>
        await client.sendRaw("shell", unsignedFrames);

        // A correctly signed message sent the same way does get handled (the observation works).
        const good = request("kernel_info_request");
        await client.sendRaw("shell", encode(good, new Signer(client.info.key, client.info.signature_scheme)));
        expectBracketed(await tap.settled(good.header.msg_id), good.header.msg_id);

        await delay(1000);
        for (const m of [badInfo, badExec, badControl, unsigned]) expect(tap.byParent(m.header.msg_id)).toEqual([]);
        const printed = tap.messages.filter(
          (m) => m.header.msg_type === "stream" && /SIGNATURE RAN|UNSIGNED RAN/.test(m.content.text),
        );
        expect(printed).toEqual([]);

        expect(client.alive).toBe(true);
        const after = await client.execute("1 + 1");
        expect(plain(after)).toEqual(["2"]);
        // The dropped execute_requests did not take an execution count.
        expect(after.reply.execution_count).toBe(before.reply.execution_count + 1);
      },
      T,
    );

    it(
      "sends no reply to a badly signed request on its own socket",
      async () => {
        const dealer = new zmq.Dealer({ linger: 0, receiveTimeout: 1000 });
        dealer.connect(endpoint(client.info, client.info.shell_port));
        try {
          const bad = request("kernel_info_request");
          await dealer.send(encode(bad, new Signer(`wrong-${randomUUID()}`)));
          await expect(dealer.receive()).rejects.toMatchObject({ code: "EAGAIN" });

          const good = request("kernel_info_request");
          const signer = new Signer(client.info.key, client.info.signature_scheme);
          await dealer.send(encode(good, signer));
          dealer.receiveTimeout = 10_000;
          const reply = decode((await dealer.receive()) as Buffer[], signer);
          expect(reply.header.msg_type).toBe("kernel_info_reply");
          expect(parentId(reply)).toBe(good.header.msg_id);
        } finally {
          dealer.close();
        }
      },
      T,
    );
  });

  describe("completion and inspection", () => {
    it(
      "complete_request offers names declared in the code",
      async () => {
        const code = "const abc = 1; ab";
        const reply = await client.call("shell", "complete_request", { code, cursor_pos: code.length });
        expect(reply.content.status).toBe("ok");
        expect(reply.content.matches).toContain("abc");
        expect(reply.content.cursor_start).toBe(code.length - 2);
        expect(reply.content.cursor_end).toBe(code.length);
      },
      T,
    );

    it(
      "complete_request offers names declared by earlier cells",
      async () => {
        await client.execute("const completionTarget = { port: 80 };");
        const code = "completionTar";
        const reply = await client.call("shell", "complete_request", { code, cursor_pos: code.length });
        expect(reply.content.matches).toContain("completionTarget");
        const member = "completionTarget.po";
        const members = await client.call("shell", "complete_request", { code: member, cursor_pos: member.length });
        expect(members.content.matches).toContain("port");
      },
      T,
    );

    it(
      "inspect_request on a known identifier is found",
      async () => {
        await client.execute("const inspectTarget = { port: 8080 };");
        const reply = await client.call("shell", "inspect_request", {
          code: "inspectTarget",
          cursor_pos: 3,
          detail_level: 0,
        });
        expect(reply.content.status).toBe("ok");
        expect(reply.content.found).toBe(true);
        expect(reply.content.data["text/plain"]).toContain("inspectTarget");
        expect(reply.content.data["text/plain"]).toContain("port");
      },
      T,
    );
  });
});

describe("interrupts and the heartbeat", () => {
  let client: KernelClient;

  beforeAll(async () => {
    client = await KernelClient.start({ cwd: root });
  });
  afterAll(async () => {
    await client?.shutdown();
  });

  /** Starts a cell and resolves once it is running (its first line has printed). */
  async function startStuck(body: string) {
    let running!: () => void;
    const started = new Promise<void>((r) => (running = r));
    const execution = client.execute(`console.log("cell started");\n${body}`, {
      onIopub: (m) => {
        if (m.header.msg_type === "stream" && String(m.content.text).includes("cell started")) running();
      },
    });
    await within(started, 20_000, "the cell to start");
    return { execution }; // not the bare promise: an async function would wait for it
  }

  const cases: Array<[string, string, "message" | "signal"]> = [
    ["a busy loop", "while (true) {}", "message"],
    ["a busy loop", "while (true) {}", "signal"],
    ["a never-settling await", "await new Promise(() => {});", "message"],
    ["a never-settling await", "await new Promise(() => {});", "signal"],
  ];
  it.each(cases)(
    "stops %s (%s) within 2 s, interrupt by %s",
    async (_what, body, how) => {
      const { execution } = await startStuck(body);
      const sent = Date.now();
      await client.interrupt(how);
      const r = await within(execution, 2000, `interrupt by ${how} to stop the cell`);
      const elapsed = Date.now() - sent;
      expect(elapsed).toBeLessThan(2000);
      expect(r.reply.status).toBe("error");
      expect(r.reply.ename).toBe("Interrupted");
      expect(errors(r).map((e) => e.ename)).toEqual(["Interrupted"]);
      expect(client.alive).toBe(true);
      await expectWorks(client);
    },
    T,
  );

  it(
    "the heartbeat answers while the main thread is stuck in a busy loop",
    async () => {
      expect(await client.heartbeat()).toBe(true);
      const { execution } = await startStuck("while (true) {}");
      // The cell is still running: it has no reply yet.
      const settled = await Promise.race([execution.then(() => true), delay(200).then(() => false)]);
      expect(settled).toBe(false);
      expect(await client.heartbeat(5000)).toBe(true);
      expect(await client.heartbeat(5000)).toBe(true);
      await client.interrupt("message");
      const r = await within(execution, 10_000, "interrupt");
      expect(r.reply.ename).toBe("Interrupted");
      await expectWorks(client);
    },
    T,
  );
});

describe("shutdown and restart", () => {
  let client: KernelClient;

  beforeAll(async () => {
    client = await KernelClient.start({ cwd: root });
  });
  afterAll(async () => {
    await client?.shutdown();
  });

  it(
    "restart gives a fresh kernel without the old variables",
    async () => {
      const set = await client.execute(
        "const restartMarker = 42;\n(globalThis as any).restartGlobal = 7;\nrestartMarker",
      );
      expect(plain(set)).toEqual(["42"]);
      const old = client;
      const oldPid = old.process.pid;
      client = await old.restart();
      expect(old.alive).toBe(false);
      expect(client.process.pid).not.toBe(oldPid);
      expect(client.alive).toBe(true);
      const gone = await client.execute("restartMarker");
      expect(gone.reply.status).toBe("error");
      expect(gone.reply.ename).toBe("TSError");
      expect(gone.reply.evalue).toContain("restartMarker");
      const global = await client.execute("(globalThis as any).restartGlobal");
      expect(global.reply.status).toBe("ok");
      expect(global.outputs).toEqual([]);
      const first = await client.execute("1 + 1");
      expect(first.reply.execution_count).toBe(3);
    },
    T,
  );

  it(
    "shutdown closes the servers and child processes cells opened, and the kernel exits",
    async () => {
      const code = [
        'import { createServer } from "node:net";',
        'import { spawn } from "node:child_process";',
        "const server = createServer((s) => s.end());",
        'await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));',
        'const sleeper = spawn("sleep", ["60"], { stdio: "ignore" });',
        "// A child that ignores SIGTERM (it says so once the trap is set).",
        'const stubborn = spawn("sh", ["-c", "trap \'\' TERM; echo trapped; exec sleep 60"], { stdio: ["ignore", "pipe", "ignore"] });',
        'await new Promise<void>((r) => stubborn.stdout.once("data", () => r()));',
        "console.log(JSON.stringify({ port: (server.address() as any).port, pids: [sleeper.pid, stubborn.pid] }));",
      ].join("\n");
      const r = await client.execute(code);
      expect(r.reply.status).toBe("ok");
      const { port, pids } = JSON.parse(streams(r));
      expect(port).toBeGreaterThan(0);
      expect(pids).toHaveLength(2);
      // All are really there before the shutdown.
      for (const pid of pids) expect(() => process.kill(pid, 0)).not.toThrow();
      expect(await canConnect(port)).toBe(true);

      const kernel = client.process;
      const exited = new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
        kernel.exitCode !== null || kernel.signalCode !== null
          ? resolve([kernel.exitCode, kernel.signalCode])
          : kernel.once("exit", (code, signal) => resolve([code, signal])),
      );
      await client.shutdown();
      // Exit code 0 and no signal: the kernel exited by itself after cleaning up, not killed by the
      // wire thread's 3 s deadline (SIGKILL) nor by the client's 4 s grace (SIGKILL).
      expect(await exited).toEqual([0, null]);
      expect(client.alive).toBe(false);
      expect(await canConnect(port)).toBe(false);
      for (const pid of pids) {
        let err: any = null;
        try {
          process.kill(pid, 0);
        } catch (e) {
          err = e;
        }
        expect(err?.code, `child ${pid} still exists after shutdown`).toBe("ESRCH");
      }
      expect(await client.heartbeat(500)).toBe(false);
    },
    T,
  );
});

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ port, host: "127.0.0.1" });
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}
