// The wirebook kernel: `node -r tsx/cjs kernel/main.ts -f CONNECTION_FILE`.
// This (main) thread runs cells; kernel/wire-thread.ts owns the sockets.
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import { releaseEverything } from "./cleanup";
import { createExecutor, describeError, type CellError } from "./executor";
import { kernelInfo } from "./kernel-info";
import { bundleOf, installFrontend, normalizeBundle, plainText } from "./runtime";
import { child, jsonParts, type Message } from "./protocol";
import type { ToMain, ToWire } from "./threads";

function parseArgs(argv: string[]): string {
  const i = argv.findIndex((a) => a === "-f" || a === "--connection-file");
  if (i >= 0 && argv[i + 1]) return argv[i + 1];
  process.stderr.write("usage: wirebook-kernel -f CONNECTION_FILE\n");
  process.exit(2);
}

const connectionFile = parseArgs(process.argv.slice(2));
const wire = new Worker(join(__dirname, "wire-thread.ts"), { workerData: { connectionFile } });
const post = (m: ToWire) => wire.postMessage(m);
const realStderr = process.stderr.write.bind(process.stderr);
const log = (line: string) => realStderr(`[wirebook] ${line}\n`);

function send(channel: "shell" | "iopub", msg: ReturnType<typeof child<object>>) {
  post({ kind: "send", channel, msg: { identities: msg.identities, parts: jsonParts(msg) } });
}
const publish = (parent: Message, type: string, content: object) =>
  send("iopub", child(parent, type, content, [Buffer.from(type)]));
const reply = (req: Message, type: string, content: object) => send("shell", child(req, type, content));
const status = (req: Message, state: "busy" | "idle") => publish(req, "status", { execution_state: state });

// Outputs belong to the cell that is running, or else to the last one (late callbacks).
let currentParent: Message | null = null;

function captureStream(name: "stdout" | "stderr") {
  const stream = process[name];
  const original = stream.write.bind(stream);
  stream.write = ((chunk: string | Uint8Array, encoding?: any, cb?: any) => {
    if (!currentParent) return original(chunk, encoding, cb);
    const text = typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8");
    publish(currentParent, "stream", { name, text });
    (typeof encoding === "function" ? encoding : cb)?.();
    return true;
  }) as typeof stream.write;
}
captureStream("stdout");
captureStream("stderr");

const show = (
  bundle: Record<string, unknown>,
  options: { displayId?: string; update?: boolean; metadata?: object },
) => {
  if (!currentParent) return;
  const content = {
    data: normalizeBundle(bundle),
    metadata: options.metadata ?? {},
    transient: options.displayId ? { display_id: options.displayId } : {},
  };
  publish(currentParent, options.update ? "update_display_data" : "display_data", content);
};
installFrontend({
  show,
  clearOutput(wait) {
    if (currentParent) publish(currentParent, "clear_output", { wait });
  },
});
// tslab's own display API (import * as tslab from "tslab") goes to the same place.
require("tslab/dist/jupyter").lastWriteDisplayData = (data: any, update: boolean) =>
  show(data.data, { displayId: data.transient?.display_id, update, metadata: data.metadata });

function reportLateError(e: unknown) {
  const err = describeError(e);
  if (currentParent) publish(currentParent, "error", err);
  else log(`${err.ename}: ${err.evalue}`);
}
process.on("uncaughtException", reportLateError);
process.on("unhandledRejection", reportLateError);

const executor = createExecutor(process.cwd());
process.on("SIGINT", () => executor.interrupt());

let executionCount = 0;
const history: Array<[number, number, string]> = [];
const executeQueue: Message[] = [];
let executing = false;

async function runExecute(req: Message) {
  const {
    code = "",
    silent = false,
    store_history = !silent,
    user_expressions = {},
    stop_on_error = true,
  } = req.content;
  status(req, "busy");
  currentParent = req;
  if (store_history) {
    executionCount++;
    history.push([0, executionCount, code]);
  }
  const count = executionCount;
  if (!silent) publish(req, "execute_input", { code, execution_count: count });
  let failure: CellError | null = null;
  try {
    const outcome = await executor.execute(code, count);
    if (!outcome.ok) failure = { ename: outcome.ename, evalue: outcome.evalue, traceback: outcome.traceback };
    else if (outcome.hasValue && !silent) {
      publish(req, "execute_result", { execution_count: count, data: bundleOf(outcome.value), metadata: {} });
    }
  } catch (e) {
    failure = describeError(e); // e.g. a Jupyter.display method that throws
  }
  if (failure) {
    publish(req, "error", failure);
    reply(req, "execute_reply", { status: "error", execution_count: count, ...failure });
    if (stop_on_error) abortQueued();
  } else {
    const results = await evaluateUserExpressions(user_expressions);
    reply(req, "execute_reply", { status: "ok", execution_count: count, user_expressions: results, payload: [] });
  }
  status(req, "idle");
}

async function evaluateUserExpressions(exprs: Record<string, string>) {
  const results: Record<string, object> = {};
  for (const [name, expr] of Object.entries(exprs)) {
    const o = await executor.execute(expr, 0).catch((e) => ({ ok: false as const, ...describeError(e) }));
    results[name] = o.ok
      ? { status: "ok", data: { "text/plain": plainText(o.value) }, metadata: {} }
      : { status: "error", ename: o.ename, evalue: o.evalue, traceback: o.traceback };
  }
  return results;
}

/** Jupyter's stop_on_error: requests queued behind a failed cell are not run. */
function abortQueued() {
  for (const req of executeQueue.splice(0)) {
    status(req, "busy");
    reply(req, "execute_reply", { status: "aborted", execution_count: null });
    status(req, "idle");
  }
}

async function pumpExecutions() {
  if (executing) return;
  executing = true;
  while (executeQueue.length) await runExecute(executeQueue.shift()!);
  executing = false;
}

function handleRequest(req: Message) {
  const c = req.content;
  const safely = (type: string, make: () => object) => {
    status(req, "busy");
    try {
      reply(req, type, { status: "ok", ...make() });
    } catch (e) {
      reply(req, type, { status: "error", ...describeError(e) });
    }
    status(req, "idle");
  };
  switch (req.header.msg_type) {
    case "execute_request":
      executeQueue.push(req);
      void pumpExecutions();
      return;
    case "kernel_info_request":
      return safely("kernel_info_reply", () => kernelInfo);
    case "complete_request":
      return safely("complete_reply", () => ({ ...executor.complete(c.code ?? "", c.cursor_pos ?? 0), metadata: {} }));
    case "inspect_request":
      return safely("inspect_reply", () => {
        const text = executor.inspect(c.code ?? "", c.cursor_pos ?? 0);
        return { found: text !== null, data: text === null ? {} : { "text/plain": text }, metadata: {} };
      });
    case "is_complete_request":
      return safely("is_complete_reply", () => executor.isComplete(c.code ?? ""));
    case "comm_info_request":
      return safely("comm_info_reply", () => ({ comms: {} }));
    case "history_request":
      return safely("history_reply", () => ({ history: selectHistory(c) }));
    case "comm_open":
      // No comm targets are registered: tell the frontend the comm is closed.
      return publish(req, "comm_close", { comm_id: c.comm_id, data: {} });
    case "shutdown_request":
      return void shutdown().then(() => {
        reply(req, "shutdown_reply", { status: "ok", restart: Boolean(c.restart) });
        setTimeout(() => process.exit(0), 100);
      });
    default:
      log(`ignored unknown shell message ${req.header.msg_type}`);
  }
}

function selectHistory(c: Record<string, any>) {
  // With `output`, the spec's entries are (session, line, (input, output)); outputs are not kept.
  const shape = (entries: typeof history) => (c.output ? entries.map(([s, n, src]) => [s, n, [src, null]]) : entries);
  if (c.hist_access_type === "range")
    return shape(history.filter(([, n]) => n >= (c.start ?? 0) && (c.stop == null || n < c.stop)));
  if (c.hist_access_type === "search") {
    const glob = new RegExp(
      "^" +
        String(c.pattern ?? "*")
          .replace(/[.+^${}()|[\]\\]/g, "\\$&")
          .replace(/\*/g, ".*")
          .replace(/\?/g, ".") +
        "$",
      "s",
    );
    let found = history.filter(([, , src]) => glob.test(src));
    // `unique`: each source once, at its latest run.
    if (c.unique) found = found.filter(([, , src], i) => !found.slice(i + 1).some(([, , later]) => later === src));
    return shape(found.slice(-(c.n ?? found.length)));
  }
  return shape(history.slice(-(c.n ?? 10)));
}

let shuttingDown: Promise<void> | null = null;
function shutdown(): Promise<void> {
  shuttingDown ??= (async () => {
    executor.interrupt();
    await releaseEverything(new Set([wire]));
    executor.close();
  })();
  return shuttingDown;
}

wire.on("message", (m: ToMain) => {
  switch (m.kind) {
    case "bound":
      log(`ready (pid ${process.pid})`);
      break;
    case "shell":
      m.msg.identities = m.msg.identities.map((b) => Buffer.from(b));
      handleRequest(m.msg);
      break;
    case "shutdown":
      void shutdown().then(() => post({ kind: "cleaned-up" }));
      break;
    case "exit":
      process.exit(0);
  }
});
wire.on("error", (e) => {
  log(`wire thread crashed: ${e.stack ?? e}`);
  process.exit(1);
});
