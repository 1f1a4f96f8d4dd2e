// A kernel in the test's own process: createKernel (kernel/kernel.ts) over an in-memory transport,
// with a small client that sends shell requests and collects the replies and every iopub message.
// Messages pass through JSON both ways, as on the wire. While it runs, the process's stdout, stderr
// and uncaught errors belong to the kernel (kernel/capture.ts); close() gives them back.
import { join } from "node:path";
import { captureProcess } from "../../kernel/capture";
import type { Execution } from "../../kernel/client";
import { createExecutor } from "../../kernel/executor";
import { createKernel, type Kernel, type KernelOptions, type Outgoing } from "../../kernel/kernel";
import { cellOutputs, type Displays } from "../../kernel/outputs";
import { jsonParts, newHeader, type Message } from "../../kernel/protocol";
import { disposeForShutdown } from "../../kernel/runtime";

const root = join(__dirname, "..", "..");
// tsx's loader for Node's own require (its types need a newer moduleResolution than ours).
const tsx: { register(): () => void } = require("tsx/cjs/api");
const parentId = (m: Message): string | undefined => ("msg_id" in m.parent_header ? m.parent_header.msg_id : undefined);

/** What arrives at a client: the message as the wire would carry it. */
function overTheWire(msg: Outgoing): Message {
  const [header, parent_header, metadata, content] = jsonParts(msg).map((p) => JSON.parse(p));
  return {
    identities: [],
    header,
    parent_header,
    metadata,
    content,
    buffers: (msg.buffers ?? []).map((b) => Buffer.from(b)),
  };
}

export interface InProcessKernel {
  readonly kernel: Kernel;
  /** Every iopub message so far, in order, whoever caused it (an independent subscriber). */
  readonly iopub: Message[];
  /** Every reply on shell so far, in order. */
  readonly shell: Message[];
  /** Sends a shell message that has no reply (comm_open, comm_msg, comm_close from a frontend);
   *  resolves with its msg_id once the kernel has handled it. */
  notify(msg_type: string, content: object, buffers?: Buffer[]): Promise<string>;
  /** Sends a shell request and resolves with its reply; `onIopub` sees the iopub it causes. */
  call(msg_type: string, content: object, onIopub?: (m: Message) => void): Promise<Message>;
  /** Runs code and collects its outputs as the zmq client does, until the reply and the idle status. */
  execute(code: string, options?: { stopOnError?: boolean; onIopub?: (m: Message) => void }): Promise<Execution>;
  /** The iopub messages caused by one request. */
  byParent(id: string): Message[];
  /** The first iopub message, past or future, that matches; rejects after `ms`. */
  waitFor(pred: (m: Message) => boolean, ms?: number): Promise<Message>;
  /** A request's iopub traffic, once its idle status has arrived. */
  settled(id: string): Promise<Message[]>;
  /** Shuts the kernel down and gives the process back its streams, listeners and loader. */
  close(): Promise<void>;
}

export function startInProcessKernel(overrides: Partial<KernelOptions> = {}): InProcessKernel {
  // Cells import wirebook/helpers/*.ts through Node's own require, as in the kernel process.
  const unregister = tsx.register();
  const session = `in-process-${process.pid}`;
  const iopub: Message[] = [];
  const shell: Message[] = [];
  const replies = new Map<string, (m: Message) => void>();
  const listeners = new Map<string, (m: Message) => void>();
  const watchers = new Set<() => void>();
  const displays: Displays = new Map();

  const kernel = createKernel({
    executor: overrides.executor ?? createExecutor(root),
    transport: {
      send(channel, outgoing) {
        const msg = overTheWire(outgoing);
        const id = parentId(msg) ?? "";
        if (channel === "shell") {
          shell.push(msg);
          replies.get(id)?.(msg);
          replies.delete(id);
          return;
        }
        iopub.push(msg);
        listeners.get(id)?.(msg);
        for (const w of watchers) w();
      },
    },
    release: () => disposeForShutdown(2000),
    ...overrides,
  });
  const restore = captureProcess(kernel, { console: true });

  /** A shell message from this test's client, as it arrives from the wire. */
  const request = (msg_type: string, content: object, buffers: Buffer[] = []) =>
    overTheWire({
      identities: [],
      header: newHeader(msg_type, session, "in-process-test"),
      parent_header: {},
      metadata: {},
      content,
      buffers,
    });

  function call(msg_type: string, content: object, onIopub?: (m: Message) => void): Promise<Message> {
    const req = request(msg_type, content);
    if (onIopub) listeners.set(req.header.msg_id, onIopub);
    const reply = new Promise<Message>((resolve) => replies.set(req.header.msg_id, resolve));
    // Later, as from a socket: the kernel's stack never starts in the test.
    setImmediate(() => kernel.handle(req));
    return reply;
  }

  function notify(msg_type: string, content: object, buffers: Buffer[] = []): Promise<string> {
    const req = request(msg_type, content, buffers);
    return new Promise((resolve) =>
      setImmediate(() => {
        kernel.handle(req);
        resolve(req.header.msg_id);
      }),
    );
  }

  function waitFor(pred: (m: Message) => boolean, ms = 10_000): Promise<Message> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        watchers.delete(check);
        reject(new Error(`timed out after ${ms} ms: iopub message`));
      }, ms);
      const check = () => {
        const m = iopub.find(pred);
        if (!m) return;
        watchers.delete(check);
        clearTimeout(timer);
        resolve(m);
      };
      watchers.add(check);
      check();
    });
  }

  const isIdle = (id: string) => (m: Message) =>
    parentId(m) === id && m.header.msg_type === "status" && m.content.execution_state === "idle";

  return {
    kernel,
    iopub,
    shell,
    call,
    notify,
    waitFor,
    byParent: (id) => iopub.filter((m) => parentId(m) === id),
    async settled(id) {
      await waitFor(isIdle(id));
      return iopub.filter((m) => parentId(m) === id);
    },
    async execute(code, options = {}) {
      const cell = cellOutputs(displays);
      const content = {
        code,
        silent: false,
        store_history: true,
        user_expressions: {},
        allow_stdin: false,
        stop_on_error: options.stopOnError ?? true,
      };
      const reply = await call("execute_request", content, (m) => {
        options.onIopub?.(m);
        cell.add(m);
      });
      const id = parentId(reply) ?? "";
      await waitFor(isIdle(id));
      listeners.delete(id);
      return { reply: reply.content, outputs: cell.outputs, timedOut: false };
    },
    async close() {
      try {
        await kernel.shutdown();
      } finally {
        restore();
        unregister();
      }
    },
  };
}
