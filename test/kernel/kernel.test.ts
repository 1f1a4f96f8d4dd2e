// Protocol tests of the kernel as a function (kernel/kernel.ts), driven in this process over an
// in-memory transport: replies and their status, iopub traffic, execution, errors and tracebacks,
// stop_on_error, rich display, late errors from callbacks, history, completion and inspection.
// What needs a real kernel process (the control channel, interrupts, the heartbeat, HMAC on the
// wire, shutdown and restart) is tested in process.test.ts.
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Executor } from "../../kernel/executor";
import type { Message } from "../../kernel/protocol";
import { startInProcessKernel, type InProcessKernel } from "../support/in-process-kernel";
import { delay, errors, expectBracketed, expectWorks, parentId, plain, run, streams } from "../support/kernel-checks";

const root = join(__dirname, "..", "..");
const T = 30_000;
// Cells import `wirebook/helpers/...` through node_modules/wirebook -> .. (made on npm install).
execFileSync(process.execPath, [join(root, "scripts", "link-self.js")]);

function expectKernelInfo(reply: Message) {
  expect(reply.header.msg_type).toBe("kernel_info_reply");
  expect(reply.content.status).toBe("ok");
  expect(reply.content.protocol_version).toBe("5.3");
  expect(reply.content.implementation).toBe("wirebook");
  expect(reply.content.language_info).toMatchObject({ name: "typescript", file_extension: ".ts" });
  expect(typeof reply.content.banner).toBe("string");
}

let kernel: InProcessKernel;
const OUTPUT_LIMIT = 1 << 20; // smaller than the default 8 MiB, to keep the test quick
beforeAll(() => {
  kernel = startInProcessKernel({ outputLimitBytes: OUTPUT_LIMIT });
});
afterAll(async () => {
  await kernel?.close();
});

describe("replies", () => {
  it(
    "kernel_info_reply on shell (the control channel's is the wire thread's: process.test.ts)",
    async () => {
      const reply = await kernel.call("kernel_info_request", {});
      expectKernelInfo(reply);
      expectBracketed(await kernel.settled(parentId(reply)), parentId(reply));
    },
    T,
  );

  const requests: Array<[string, string, object, string]> = [
    ["comm_info_request", "comm_info_reply", { target_name: "x" }, "ok"],
    ["history_request", "history_reply", { hist_access_type: "tail", n: 5, output: false, raw: true }, "ok"],
    ["complete_request", "complete_reply", { code: "Mat", cursor_pos: 3 }, "ok"],
    ["inspect_request", "inspect_reply", { code: "Math", cursor_pos: 2, detail_level: 0 }, "ok"],
    ["is_complete_request", "is_complete_reply", { code: "const a = 1;" }, "complete"],
    ["is_complete_request", "is_complete_reply", { code: "function f() {" }, "incomplete"],
    [
      "execute_request",
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
  ];
  it.each(requests)(
    "%s: %s carries status, busy/idle bracket it",
    async (type, replyType, content, status) => {
      const reply = await kernel.call(type, content);
      expect(reply.header.msg_type).toBe(replyType);
      expect(reply.content.status).toBe(status);
      expectBracketed(await kernel.settled(parentId(reply)), parentId(reply));
    },
    T,
  );

  it(
    "comm_info and history replies have their content",
    async () => {
      expect((await kernel.call("comm_info_request", {})).content.comms).toEqual({});
      const code = "const historyProbe = 41 + 1;";
      await kernel.execute(code);
      const reply = await kernel.call("history_request", {
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
      const withOutput = await kernel.call("history_request", {
        hist_access_type: "tail",
        n: 1,
        output: true,
        raw: true,
      });
      expect(withOutput.content.history).toEqual([[session, line, [code, null]]]);
      const range = await kernel.call("history_request", {
        hist_access_type: "range",
        session,
        start: line,
        stop: line + 1,
        output: false,
        raw: true,
      });
      expect(range.content.history).toEqual([[session, line, code]]);

      // search matches a glob over the whole source; unique lists each source once, at its last run
      await kernel.execute(code);
      const all = await kernel.call("history_request", {
        hist_access_type: "search",
        pattern: "const historyProbe*",
        output: false,
        raw: true,
      });
      expect(all.content.history.map((h: any[]) => h[2])).toEqual([code, code]);
      const unique = await kernel.call("history_request", {
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
      const r = await run(kernel, code);
      expect(r.reply.status).toBe("ok");
      const count = r.reply.execution_count;
      expect(Number.isInteger(count)).toBe(true);
      const traffic = await kernel.settled(r.id);
      expectBracketed(traffic, r.id);
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
      const a = await kernel.execute("1");
      const b = await kernel.execute("2");
      expect(b.reply.execution_count).toBe(a.reply.execution_count + 1);
    },
    T,
  );

  it(
    "returns the last expression as execute_result text/plain, not as stdout",
    async () => {
      const r = await run(kernel, "const lastA = 6;\nlastA * 7");
      expect(r.outputs).toEqual([
        {
          output_type: "execute_result",
          execution_count: r.reply.execution_count,
          data: { "text/plain": "42" },
          metadata: {},
        },
      ]);
      expect(r.raw.filter((m) => m.header.msg_type === "stream")).toEqual([]);
      const s = await kernel.execute('"a string"');
      expect(plain(s)).toEqual(["'a string'"]);
      expect(streams(s)).toBe("");
    },
    T,
  );

  it(
    "stdout is a stream output, separate from the result",
    async () => {
      const r = await kernel.execute('console.log("printed");\n"value"');
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
        const r = await run(kernel, code);
        expect(r.reply.status).toBe("ok");
        expect(r.outputs).toEqual([]);
        expect(r.raw.filter((m) => m.header.msg_type === "execute_result")).toEqual([]);
      }
    },
    T,
  );

  it(
    "names imported over several lines stay defined in later cells",
    async () => {
      await kernel.execute('import {\n  isDeepStrictEqual,\n  inspect,\n} from "node:util";');
      const ex = await kernel.execute("[typeof isDeepStrictEqual, typeof inspect]");
      expect(ex.outputs[0]).toMatchObject({ data: { "text/plain": "[ 'function', 'function' ]" } });
    },
    T,
  );

  it(
    "takes an earlier cell's variable as a shorthand property ({ data })",
    async () => {
      await kernel.execute("const shorthandData = 5;");
      const ex = await kernel.execute("const wrapped = { shorthandData };\nwrapped");
      expect(ex.reply.status).toBe("ok");
      expect(ex.outputs[0]).toMatchObject({
        output_type: "execute_result",
        data: { "text/plain": "{ shorthandData: 5 }" },
      });
    },
    T,
  );
  it(
    "a cell that prints past the output limit: the rest dropped, one notice, an OutputLimit error",
    async () => {
      const code = [
        'const outputChunk = "x".repeat(65535) + "\\n";',
        "for (let i = 0; i < 40; i++) process.stdout.write(outputChunk);", // 2.5 MiB
        '"never shown"',
      ].join("\n");
      const r = await run(kernel, code);
      expect(r.reply.status).toBe("error");
      expect(r.reply.ename).toBe("OutputLimit");
      expect(r.reply.evalue).toBe(`the cell printed ${40 * 65536} bytes; the kernel keeps the first ${OUTPUT_LIMIT}`);
      const sent = r.raw.filter((m) => m.header.msg_type === "stream" && m.content.name === "stdout");
      const bytes = sent.reduce((n, m) => n + Buffer.byteLength(m.content.text), 0);
      expect(bytes).toBe(16 * 65536); // whole writes while they fit: 16 of 64 KiB make the 1 MiB
      const notices = r.raw.filter((m) => m.header.msg_type === "stream" && m.content.name === "stderr");
      expect(notices.map((m) => m.content.text)).toEqual([
        `\n[wirebook] output stopped here: a cell may print at most ${OUTPUT_LIMIT} bytes\n`,
      ]);
      expect(r.raw.filter((m) => m.header.msg_type === "execute_result")).toEqual([]);
      expect(errors(r).map((e) => e.ename)).toEqual(["OutputLimit"]);
      // The limit is per cell: the next one prints again.
      const next = await kernel.execute('console.log("printing again")');
      expect(streams(next)).toBe("printing again\n");
    },
    T,
  );
});

describe("errors", () => {
  async function expectError(code: string, ename: string, evalue: string | RegExp) {
    const r = await run(kernel, code);
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
        [
          "await delayReject();",
          "async function delayReject() {",
          "  await new Promise((r) => setTimeout(r, 10));",
          '  throw new RangeError("rejected await");',
          "}",
        ].join("\n"),
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
      const later = await kernel.execute("typed");
      expect(later.reply.status).toBe("error");
      expect(later.reply.ename).toBe("TSError");
      expect(later.reply.evalue).toContain("typed");
    },
    T,
  );

  it(
    "cells see Node's global types, not those of every package under node_modules/@types",
    async () => {
      // jQuery's types are installed (the browser test's packages bring them) but not global.
      await expectError("const $q: JQueryStatic | undefined = undefined;", "TSError", /JQueryStatic/);
      // Node's globals are, and a package's own types load when a cell imports it.
      const ok = await run(kernel, 'import type { WebSocket } from "ws";\nconst b: Buffer = Buffer.from("x");');
      expect(ok.reply.status).toBe("ok");
    },
    T,
  );
  it(
    "stop_on_error: requests queued behind a failing cell are aborted",
    async () => {
      const first = kernel.execute('await new Promise((r) => setTimeout(r, 300));\nthrow new Error("first fails");');
      const second = kernel.execute('console.log("second ran");\n2');
      const third = kernel.execute('console.log("third ran");\n3');
      const [a, b, c] = await Promise.all([first, second, third]);
      expect(a.reply.status).toBe("error");
      expect(a.reply.evalue).toBe("first fails");
      for (const queued of [b, c]) {
        expect(queued.reply.status).toBe("aborted");
        expect(queued.outputs).toEqual([]);
      }
      await expectWorks(kernel);
    },
    T,
  );

  it(
    "stop_on_error false: queued requests still run",
    async () => {
      const opts = { stopOnError: false };
      const first = kernel.execute(
        'await new Promise((r) => setTimeout(r, 300));\nthrow new Error("first fails again");',
        opts,
      );
      const second = kernel.execute('console.log("second ran");\n2', opts);
      const third = kernel.execute('console.log("third ran");\n3', opts);
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
        'import { displayBundle } from "wirebook/helpers";',
        'displayBundle({ "application/json": { a: 1, nested: { b: [1, 2] } } });',
        'displayBundle({ "application/json": \'{"fromString": true}\' });',
        "displayBundle({",
        '  "application/vnd.vegalite.v5+json": { mark: "bar", data: { values: [{ x: 1 }] } },',
        '  "text/plain": "chart",',
        "});",
        'displayBundle({ "application/vnd.vegalite.v5+json": \'{"mark":"point"}\' });',
      ].join("\n");
      const r = await run(kernel, code);
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
      expect(r.outputs.map((o) => ("data" in o ? o.data : undefined))).toEqual(expected);
    },
    T,
  );

  it(
    "a display_id update arrives as update_display_data and rewrites the output",
    async () => {
      const code = [
        'import { liveDisplay } from "wirebook/helpers";',
        'const live = liveDisplay("first version");',
        'live.update({ "step": 2 });',
        "(globalThis as any).liveForLater = live;",
        "undefined",
      ].join("\n");
      const r = await run(kernel, code);
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
      expect(r.outputs).toEqual([{ output_type: "display_data", data: { "text/plain": "{ step: 2 }" }, metadata: {} }]);

      // An update from a later cell rewrites the earlier cell's output, and adds none to its own.
      const later = await run(kernel, '(globalThis as any).liveForLater.update("third version");');
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
    "a live display ends as it opened, with the result as an output of its own (what nbval sees)",
    async () => {
      const code = [
        'import { liveDisplay } from "wirebook/helpers";',
        'const progress = liveDisplay("progress of the run");',
        'progress.update("half way");',
        'progress.end({ "done": true });',
      ].join("\n");
      const r = await run(kernel, code);
      expect(r.reply.status).toBe("ok");
      const shown = r.raw.filter((m) => m.header.msg_type === "display_data").map((m) => m.content.data);
      // nbval ignores update_display_data: it sees the caption and the result...
      expect(shown).toEqual([{ "text/plain": "'progress of the run'" }, { "text/plain": "{ done: true }" }]);
      // ...and so does the stored notebook, where every update was applied.
      expect(r.outputs.map((o: any) => o.data)).toEqual(shown);
    },
    T,
  );

  it(
    "clear_output clears what came before, now or at the next output (wait)",
    async () => {
      const now = await run(
        kernel,
        [
          'import { clearOutput } from "wirebook/helpers";',
          'console.log("before");',
          "clearOutput();",
          'console.log("after");',
        ].join("\n"),
      );
      expect(now.raw.filter((m) => m.header.msg_type === "clear_output").map((m) => m.content)).toEqual([
        { wait: false },
      ]);
      expect(now.outputs).toEqual([{ output_type: "stream", name: "stdout", text: "after\n" }]);

      const wait = await run(
        kernel,
        [
          'import { clearOutput } from "wirebook/helpers";',
          'console.log("old");',
          "clearOutput(true);",
          'console.log("new");',
        ].join("\n"),
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
      const r = await run(kernel, code);
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
      const code = [
        "setTimeout(() => {",
        '  throw new Error("late in cell");',
        "}, 50);",
        "await new Promise((r) => setTimeout(r, 1000));",
        '"cell finished"',
      ].join("\n");
      const r = await run(kernel, code);
      expect(r.reply.status).toBe("ok");
      const errs = errors(r);
      expect(errs.map((e) => [e.ename, e.evalue])).toEqual([["Error", "late in cell"]]);
      expect(errs[0].traceback.join("\n")).toContain(`Cell [${r.reply.execution_count}], line 2`);
      expect(plain(r)).toEqual(["'cell finished'"]);
      await expectWorks(kernel);
    },
    T,
  );

  it(
    "a callback of a finished cell that throws while another cell runs is reported there",
    async () => {
      const a = await run(
        kernel,
        [
          "const poll = setInterval(() => {",
          "  if ((globalThis as any).goLate) {",
          "    clearInterval(poll);",
          '    throw new Error("late from earlier cell");',
          "  }",
          "}, 20);",
          '"armed"',
        ].join("\n"),
      );
      expect(a.reply.status).toBe("ok");
      const b = await run(
        kernel,
        '(globalThis as any).goLate = true;\nawait new Promise((r) => setTimeout(r, 1000));\n"b done"',
      );
      expect(b.reply.status).toBe("ok");
      expect(errors(b).map((e) => e.evalue)).toEqual(["late from earlier cell"]);
      expect(plain(b)).toEqual(["'b done'"]);
      await expectWorks(kernel);
    },
    T,
  );

  it(
    "a timer error after its cell finished goes to the last cell's parent and does not kill the kernel",
    async () => {
      const a = await run(
        kernel,
        [
          "setTimeout(() => {",
          '  throw new Error("after the cell");',
          "}, 300);",
          'setTimeout(() => Promise.reject(new Error("late rejection")), 400);',
          '"a done"',
        ].join("\n"),
      );
      expect(a.reply.status).toBe("ok");
      expect(errors(a)).toEqual([]); // the cell finished before its timers fired
      const thrown = await kernel.waitFor(
        (m) => m.header.msg_type === "error" && m.content.evalue === "after the cell",
      );
      const rejected = await kernel.waitFor(
        (m) => m.header.msg_type === "error" && m.content.evalue === "late rejection",
      );
      expect(parentId(thrown)).toBe(a.id);
      expect(parentId(rejected)).toBe(a.id);
      expect(thrown.content.ename).toBe("Error");
      expect(Array.isArray(thrown.content.traceback)).toBe(true);
      await expectWorks(kernel);
    },
    T,
  );
});

describe("completion and inspection", () => {
  it(
    "complete_request offers names declared in the code",
    async () => {
      const code = "const abc = 1; ab";
      const reply = await kernel.call("complete_request", { code, cursor_pos: code.length });
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
      await kernel.execute("const completionTarget = { port: 80 };");
      const code = "completionTar";
      const reply = await kernel.call("complete_request", { code, cursor_pos: code.length });
      expect(reply.content.matches).toContain("completionTarget");
      const member = "completionTarget.po";
      const members = await kernel.call("complete_request", { code: member, cursor_pos: member.length });
      expect(members.content.matches).toContain("port");
    },
    T,
  );

  it(
    "inspect_request on a known identifier is found",
    async () => {
      await kernel.execute("const inspectTarget = { port: 8080 };");
      const reply = await kernel.call("inspect_request", {
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

describe("requests with no cell to run", () => {
  it(
    "comm_open is answered by comm_close on iopub (no comm targets are registered)",
    async () => {
      const reply = kernel.call("comm_open", { comm_id: "comm-probe", target_name: "jupyter.widget", data: {} });
      const closed = await kernel.waitFor((m) => m.header.msg_type === "comm_close");
      expect(closed.content).toEqual({ comm_id: "comm-probe", data: {} });
      // comm_open has no reply on shell.
      const answered = await Promise.race([reply.then(() => true), delay(300).then(() => false)]);
      expect(answered).toBe(false);
    },
    T,
  );

  it(
    "user_expressions are evaluated after the cell, each with its status",
    async () => {
      const reply = await kernel.call("execute_request", {
        code: "const userExprBase = 20;",
        silent: false,
        store_history: true,
        user_expressions: { sum: "userExprBase + 1", broken: "userExprBase.nope()" },
        allow_stdin: false,
        stop_on_error: true,
      });
      expect(reply.content.status).toBe("ok");
      expect(reply.content.user_expressions.sum).toEqual({
        status: "ok",
        data: { "text/plain": "21" },
        metadata: {},
      });
      expect(reply.content.user_expressions.broken).toMatchObject({ status: "error", ename: "TSError" });
    },
    T,
  );
});

describe("shutdown_request on shell", () => {
  it(
    "interrupts, releases what cells opened, closes the executor, replies, then lets the host exit",
    async () => {
      const events: string[] = [];
      // A stand-in executor, as tslab tests its own handler: this is about the kernel's order of steps.
      const executor: Executor = {
        execute: async () => ({ ok: true, value: 42, hasValue: true }),
        interrupt: () => {
          events.push("interrupted");
          return false; // no cell was running
        },
        complete: () => ({ matches: [], cursor_start: 0, cursor_end: 0 }),
        inspect: () => null,
        isComplete: () => ({ status: "complete" }),
        close: () => void events.push("executor closed"),
      };
      const own = startInProcessKernel({
        executor,
        release: async () => void events.push("released"),
        onShutdownReply: (restart) =>
          void events.push(`exit (restart ${restart}) after ${own.shell.at(-1)?.header.msg_type}`),
      });
      try {
        expect(plain(await own.execute("anything"))).toEqual(["42"]);
        const reply = await own.call("shutdown_request", { restart: true });
        expect(reply.content).toEqual({ status: "ok", restart: true });
        expect(events).toEqual([
          "interrupted",
          "released",
          "executor closed",
          "exit (restart true) after shutdown_reply",
        ]);
      } finally {
        await own.close(); // a second shutdown does nothing again
      }
      expect(events).toHaveLength(4);
    },
    T,
  );
});
