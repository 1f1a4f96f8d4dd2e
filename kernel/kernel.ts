// The kernel as a function: createKernel answers shell requests and publishes on iopub, given an
// executor that runs the cells (kernel/executor.ts) and a transport that carries the messages. It
// opens no socket, reads no argv and patches no stream, so tests drive it in their own process;
// kernel/main.ts connects it to the zmq wire thread (kernel/wire.ts) and to the process's stdout,
// stderr and uncaught errors (kernel/capture.ts). The control channel (interrupt, shutdown) is the
// wire thread's, so that it is answered while a cell keeps this thread busy.
import { describeError, type CellError, type Executor } from "./executor";
import { createComms } from "./comms";
import { kernelInfo } from "./kernel-info";
import { child, type Message } from "./protocol";
import { bundleOf, installFrontend, normalizeBundle, plainText, type MimeBundle, type ShowOptions } from "./runtime";

export type Channel = "shell" | "iopub";
/** A message the kernel sends: a reply (shell) or a broadcast (iopub); the transport signs it. */
export type Outgoing = Omit<Message<object>, "buffers"> & { buffers?: Buffer[] };

/** Carries the kernel's messages: the zmq wire thread in the kernel process, memory in tests. */
export interface Transport {
  send(channel: Channel, msg: Outgoing): void;
}

export interface KernelOptions {
  executor: Executor;
  transport: Transport;
  /** Closes what cells opened, at shutdown (in the kernel process: kernel/cleanup.ts). */
  release(): Promise<void>;
  /** Called once a shutdown_request on shell has been answered; the kernel process exits. */
  onShutdownReply?(restart: boolean): void;
  /** The kernel's own diagnostics, never a cell's output. */
  log?(line: string): void;
  /** How many bytes of stream output one cell may produce (default 8 MiB); beyond it the rest is
   *  dropped and the cell ends with an OutputLimit error, so a runaway print cannot exhaust the
   *  frontend, the runner or the notebook file. */
  outputLimitBytes?: number;
}

export interface Kernel {
  /** Handles one shell request; execute requests queue and run one at a time. */
  handle(req: Message): void;
  /** Text the process wrote to stdout or stderr: a stream output of the running cell, or else of
   *  the last one. False before any cell ran (the host writes it through). */
  write(name: "stdout" | "stderr", text: string): boolean;
  /** An error no cell awaited (a timer's throw, an unhandled rejection): an error output of the
   *  running (or last) cell, so it never kills the kernel. */
  reportError(e: unknown): void;
  /** Interrupts the cell, closes what cells opened and the executor; once, later calls share it. */
  shutdown(): Promise<void>;
}

type HistoryEntry = [session: number, line: number, source: string];

/** What tslab's own display API (`import * as tslab from "tslab"`) writes, through this slot. */
interface TslabDisplayData {
  data: MimeBundle;
  metadata?: object;
  transient?: { display_id?: string };
}
interface TslabJupyter {
  lastWriteDisplayData: ((d: TslabDisplayData, update: boolean) => void) | null;
}

export function createKernel(options: KernelOptions): Kernel {
  const { executor, transport } = options;
  const log = options.log ?? (() => {});

  const publish = (parent: Message, type: string, content: object, buffers?: Buffer[], metadata = {}) =>
    transport.send("iopub", { ...child(parent, type, content, [Buffer.from(type)]), metadata, buffers });
  const reply = (req: Message, type: string, content: object) => transport.send("shell", child(req, type, content));
  const status = (req: Message, state: "busy" | "idle") => publish(req, "status", { execution_state: state });

  // Outputs belong to the cell that is running, or else to the last one (late callbacks).
  let currentParent: Message | null = null;

  const show = (bundle: MimeBundle, how: ShowOptions) => {
    if (!currentParent) return;
    const content = {
      data: normalizeBundle(bundle),
      metadata: how.metadata ?? {},
      transient: how.displayId ? { display_id: how.displayId } : {},
    };
    publish(currentParent, how.update ? "update_display_data" : "display_data", content);
  };
  // The frontend message being handled, so that what a comm handler sends answers it.
  let commParent: Message | null = null;
  function reportError(e: unknown) {
    const err = describeError(e);
    const parent = commParent ?? currentParent;
    if (parent) publish(parent, "error", err);
    else log(`${err.ename}: ${err.evalue}`);
  }
  const comms = createComms({
    publish,
    parent: () => commParent ?? currentParent,
    reportError,
  });
  installFrontend({
    comms,
    show,
    clearOutput(wait) {
      if (currentParent) publish(currentParent, "clear_output", { wait });
    },
  });
  const tslab: TslabJupyter = require("tslab/dist/jupyter");
  tslab.lastWriteDisplayData = (d, update) =>
    show(d.data, { displayId: d.transient?.display_id, update, metadata: d.metadata });

  const outputLimit = options.outputLimitBytes ?? 8 * 1024 * 1024;
  // Stream bytes of the current parent, and those dropped past the limit.
  let streamed = 0;
  let dropped = 0;

  let executionCount = 0;
  const history: HistoryEntry[] = [];
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
    streamed = 0;
    dropped = 0;
    if (store_history) {
      executionCount++;
      history.push([0, executionCount, code]);
    }
    const count = executionCount;
    if (!silent) publish(req, "execute_input", { code, execution_count: count });
    let failure: CellError | null = null;
    const outputLimitFailure = (): CellError => {
      const evalue = `the cell printed ${streamed + dropped} bytes; the kernel keeps the first ${outputLimit}`;
      return { ename: "OutputLimit", evalue, traceback: [`OutputLimit: ${evalue}`] };
    };
    try {
      const outcome = await executor.execute(code, count);
      if (!outcome.ok) failure = { ename: outcome.ename, evalue: outcome.evalue, traceback: outcome.traceback };
      else if (dropped > 0) failure = outputLimitFailure();
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
    for (let req = executeQueue.shift(); req; req = executeQueue.shift()) await runExecute(req);
    executing = false;
  }

  function handle(req: Message) {
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
        return safely("complete_reply", () => ({
          ...executor.complete(c.code ?? "", c.cursor_pos ?? 0),
          metadata: {},
        }));
      case "inspect_request":
        return safely("inspect_reply", () => {
          const text = executor.inspect(c.code ?? "", c.cursor_pos ?? 0);
          return { found: text !== null, data: text === null ? {} : { "text/plain": text }, metadata: {} };
        });
      case "is_complete_request":
        return safely("is_complete_reply", () => executor.isComplete(c.code ?? ""));
      case "comm_info_request":
        return safely("comm_info_reply", () => ({
          comms: comms.info(typeof c.target_name === "string" ? c.target_name : undefined),
        }));
      case "history_request":
        return safely("history_reply", () => ({ history: selectHistory(history, c) }));
      case "comm_open":
      case "comm_msg":
      case "comm_close":
        // Handled at once, also while a cell awaits: a control moved during a long cell still arrives.
        status(req, "busy");
        commParent = req;
        try {
          comms.receive(req);
        } finally {
          commParent = null;
        }
        status(req, "idle");
        return;
      case "shutdown_request":
        return void shutdown().then(() => {
          reply(req, "shutdown_reply", { status: "ok", restart: Boolean(c.restart) });
          options.onShutdownReply?.(Boolean(c.restart));
        });
      default:
        log(`ignored unknown shell message ${req.header.msg_type}`);
    }
  }

  let shuttingDown: Promise<void> | null = null;
  function shutdown(): Promise<void> {
    shuttingDown ??= (async () => {
      executor.interrupt();
      comms.closeAll();
      await options.release();
      executor.close();
    })();
    return shuttingDown;
  }

  return {
    handle,
    shutdown,
    write(name, text) {
      if (!currentParent) return false;
      const bytes = Buffer.byteLength(text);
      if (streamed + bytes > outputLimit) {
        if (dropped === 0) {
          const notice = `\n[wirebook] output stopped here: a cell may print at most ${outputLimit} bytes\n`;
          publish(currentParent, "stream", { name: "stderr", text: notice });
        }
        dropped += bytes;
        return true;
      }
      streamed += bytes;
      publish(currentParent, "stream", { name, text });
      return true;
    },
    reportError,
  };
}

/** The entries a history_request asks for (tail, range or search). */
function selectHistory(history: HistoryEntry[], c: Message["content"]) {
  // With `output`, the spec's entries are (session, line, (input, output)); outputs are not kept.
  const shape = (entries: HistoryEntry[]) => (c.output ? entries.map(([s, n, src]) => [s, n, [src, null]]) : entries);
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
