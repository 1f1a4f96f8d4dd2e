// A Jupyter client over zeromq: launches a kernel with a fresh connection file, executes code,
// turns iopub messages into nbformat outputs, interrupts, restarts and shuts down, and never
// leaves a kernel process behind.
import { ChildProcess, spawn } from "node:child_process";
import nodeProcess from "node:process";
import { randomUUID } from "node:crypto";
import { rmSync } from "node:fs";
import { dirname } from "node:path";
import * as zmq from "zeromq";
import { createConnectionFile, endpoint, type ConnectionInfo } from "./connection";
import { kernelArgv } from "./kernelspec";
import { decode, encode, newHeader, serialSender, Signer, type Message } from "./protocol";
import type { Output } from "./nbformat";
import { cellOutputs, type Displays } from "./outputs";

export interface StartOptions {
  cwd?: string;
  /** Kernel command; `{connection_file}` is replaced. Default: this checkout's kernel. */
  argv?: string[];
  env?: NodeJS.ProcessEnv;
  startupTimeoutMs?: number;
}

export interface ExecuteOptions {
  timeoutMs?: number;
  stopOnError?: boolean;
  silent?: boolean;
  /** Called with each raw iopub message of this execution (progress, tests). */
  onIopub?: (msg: Message) => void;
}

export interface Execution {
  reply: Record<string, any>;
  outputs: Output[];
  timedOut: boolean;
}

export class KernelDiedError extends Error {
  code = "ERR_KERNEL_DIED";
}

const live = new Set<ChildProcess>();
// Whatever happens to the client, its kernels go with it.
process.on("exit", () => {
  for (const p of live) p.kill("SIGKILL");
});

type Waiter = { resolve: (m: Message) => void; reject: (e: Error) => void };

export class KernelClient {
  readonly session = randomUUID();
  private signer: Signer;
  private shell = new zmq.Dealer({ routingId: `wb-shell-${randomUUID()}` });
  private control = new zmq.Dealer({ routingId: `wb-ctl-${randomUUID()}` });
  private iopub = new zmq.Subscriber({ receiveHighWaterMark: 0 }); // nothing dropped (see wire-thread.ts)
  private sendShell = serialSender((f) => this.shell.send(f));
  private sendControl = serialSender((f) => this.control.send(f));
  private replies = new Map<string, Waiter>();
  private iopubListeners = new Map<string, (m: Message) => void>();
  /** Outputs by display_id, so update_display_data can rewrite earlier outputs in place. */
  private displays: Displays = new Map();
  private stderrTail: string[] = [];
  private outOfMemory = false;
  private exited: Promise<number | null>;
  private closed = false;
  /** Why the kernel process is gone, once it is: later requests fail with it instead of waiting forever. */
  private died: string | null = null;

  private constructor(
    readonly process: ChildProcess,
    readonly info: ConnectionInfo,
    private readonly connectionFile: string,
    private readonly options: StartOptions,
  ) {
    this.signer = new Signer(info.key, info.signature_scheme);
    live.add(process);
    this.exited = new Promise((resolve) => {
      process.once("exit", (code, signal) => {
        live.delete(process);
        const why = this.outOfMemory ? "ran out of memory: JavaScript heap limit" : (signal ?? `code ${code}`);
        this.died = `kernel exited (${why})${this.lastStderr()}`;
        this.failAll(new KernelDiedError(this.died));
        resolve(code);
      });
    });
    process.stderr?.setEncoding("utf8").on("data", (s: string) => {
      if (/heap out of memory|heap limit/i.test(s)) this.outOfMemory = true;
      // Native stack frames (a fatal error prints them) would push the message itself out.
      this.stderrTail.push(...s.split("\n").filter((l) => l && !/^\s*\d+: 0x[0-9a-f]+ /.test(l)));
      this.stderrTail.splice(0, Math.max(0, this.stderrTail.length - 20));
      if (nodeProcess.env.WIREBOOK_DEBUG) nodeProcess.stderr.write(s);
    });
  }

  static async start(options: StartOptions = {}, attempt = 1): Promise<KernelClient> {
    const { path, info } = await createConnectionFile();
    const argv = (options.argv ?? kernelArgv()).map((a) => a.replace("{connection_file}", path));
    const proc = spawn(argv[0], argv.slice(1), {
      cwd: options.cwd ?? nodeProcess.cwd(),
      env: options.env ?? nodeProcess.env,
      stdio: ["ignore", "inherit", "pipe"],
    });
    const client = new KernelClient(proc, info, path, options);
    try {
      await client.connect(options.startupTimeoutMs ?? 60_000);
    } catch (e) {
      // The ports were free when chosen, as jupyter_client chooses them, but another process may
      // bind one before the kernel does: start again on fresh ports, twice at most.
      const portTaken = client.stderrTail.some((l) => l.includes("Address already in use"));
      if (portTaken && attempt < 3) return KernelClient.start(options, attempt + 1);
      throw e;
    }
    return client;
  }

  private async connect(timeoutMs: number) {
    for (const s of [this.shell, this.control, this.iopub]) s.linger = 0;
    this.shell.connect(endpoint(this.info, this.info.shell_port));
    this.control.connect(endpoint(this.info, this.info.control_port));
    this.iopub.connect(endpoint(this.info, this.info.iopub_port));
    this.iopub.subscribe();
    void this.readReplies(this.shell);
    void this.readReplies(this.control);
    void this.readIopub();
    // Like jupyter_client's wait_for_ready: ask for kernel_info until both the reply and its
    // iopub status arrive, so no early output is lost to a subscription still being set up.
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const req = this.message("kernel_info_request", {});
      const sawStatus = new Promise<void>((resolve) => this.iopubListeners.set(req.header.msg_id, () => resolve()));
      const ok = await Promise.race([
        Promise.all([this.request(this.sendShell, req), sawStatus]).then(() => true),
        new Promise<false>((r) => setTimeout(() => r(false), 500)),
        this.exited.then(() => {
          throw new KernelDiedError(`kernel exited during start-up${this.lastStderr()}`);
        }),
      ]);
      this.iopubListeners.delete(req.header.msg_id);
      this.replies.delete(req.header.msg_id);
      if (ok) return this.watchHeartbeat();
      if (this.wireFailed()) break; // it will never answer
    }
    await this.shutdown();
    const why = this.wireFailed()
      ? "kernel could not open its sockets"
      : `kernel did not answer within ${timeoutMs / 1000} s`;
    throw new KernelDiedError(`${why}${this.lastStderr()}`);
  }

  private wireFailed() {
    return this.stderrTail.some((l) => l.includes("wire thread failed"));
  }

  private lastStderr() {
    const tail = this.stderrTail.filter((l) => !l.includes("] ready")).slice(-5);
    return tail.length ? `; kernel stderr:\n  ${tail.join("\n  ")}` : "";
  }

  private failAll(e: Error) {
    for (const w of this.replies.values()) w.reject(e);
    this.replies.clear();
  }

  private message(msg_type: string, content: object): Message {
    return {
      identities: [],
      header: newHeader(msg_type, this.session, "wirebook-client"),
      parent_header: {},
      metadata: {},
      content,
      buffers: [],
    };
  }

  private async readReplies(sock: zmq.Dealer) {
    try {
      for await (const frames of sock) {
        try {
          const msg = decode(frames as Buffer[], this.signer);
          const id = (msg.parent_header as any).msg_id;
          this.replies.get(id)?.resolve(msg);
          this.replies.delete(id);
        } catch (e) {
          nodeProcess.stderr.write(`[wirebook client] dropped reply: ${(e as Error).message}\n`);
        }
      }
    } catch {
      // socket closed
    }
  }

  private async readIopub() {
    try {
      for await (const frames of this.iopub) {
        let msg: Message;
        try {
          msg = decode(frames as Buffer[], this.signer);
        } catch (e) {
          nodeProcess.stderr.write(`[wirebook client] dropped iopub message: ${(e as Error).message}\n`);
          continue;
        }
        this.iopubListeners.get((msg.parent_header as any).msg_id)?.(msg);
      }
    } catch {
      // socket closed
    }
  }

  private request(send: (f: Buffer[]) => Promise<void>, req: Message): Promise<Message> {
    if (this.closed) return Promise.reject(new KernelDiedError("client is shut down"));
    if (this.died) return Promise.reject(new KernelDiedError(this.died));
    return new Promise((resolve, reject) => {
      this.replies.set(req.header.msg_id, { resolve, reject });
      send(encode(req, this.signer)).catch(reject);
    });
  }

  /** Sends any shell or control request and returns the reply message (protocol tests use this). */
  async call(
    channel: "shell" | "control",
    msg_type: string,
    content: object,
    onIopub?: (m: Message) => void,
  ): Promise<Message> {
    const req = this.message(msg_type, content);
    if (onIopub) this.iopubListeners.set(req.header.msg_id, onIopub);
    try {
      return await this.request(channel === "shell" ? this.sendShell : this.sendControl, req);
    } finally {
      if (onIopub) setTimeout(() => this.iopubListeners.delete(req.header.msg_id), 2000).unref();
    }
  }

  /** Sends a shell message that has no reply (comm_open, comm_msg, comm_close) and resolves with
   *  the first iopub message it causes that `until` accepts, or null after `timeoutMs`. */
  async notify(
    msg_type: string,
    content: object,
    until: (m: Message) => boolean = () => false,
    timeoutMs = 5000,
  ): Promise<Message | null> {
    const req = this.message(msg_type, content);
    try {
      return await new Promise<Message | null>((resolve, reject) => {
        const timer = setTimeout(() => resolve(null), timeoutMs);
        this.iopubListeners.set(req.header.msg_id, (m) => {
          if (!until(m)) return;
          clearTimeout(timer);
          resolve(m);
        });
        this.sendShell(encode(req, this.signer)).catch(reject);
      });
    } finally {
      this.iopubListeners.delete(req.header.msg_id);
    }
  }

  /** The widgets' state, as the control comm gives it (request_states): what a saved notebook
   *  keeps in its metadata so that it shows the controls without a kernel. Null if none. */
  async widgetState(): Promise<{ version_major: 2; version_minor: 0; state: Record<string, unknown> } | null> {
    const comm_id = randomUUID().replace(/-/g, "");
    // No widget was ever made (the control target is not registered): the kernel closes the comm.
    let refused = false;
    const handled = await this.notify(
      "comm_open",
      { comm_id, target_name: "jupyter.widget.control", data: {} },
      (m) => {
        if (m.header.msg_type === "comm_close" && m.content.comm_id === comm_id) refused = true;
        return m.header.msg_type === "status" && m.content.execution_state === "idle";
      },
    );
    if (!handled || refused) return null;
    const answer = await this.notify(
      "comm_msg",
      { comm_id, data: { method: "request_states" } },
      (m) => m.header.msg_type === "comm_msg" && m.content.data?.method === "update_states",
    );
    await this.notify("comm_close", { comm_id, data: {} });
    const state = answer?.content.data.states;
    return state && Object.keys(state).length ? { version_major: 2, version_minor: 0, state } : null;
  }

  /** Raw frames on a channel, for tests of signature checking and malformed input. */
  async sendRaw(channel: "shell" | "control", frames: Buffer[]) {
    await (channel === "shell" ? this.sendShell : this.sendControl)(frames);
  }

  /** Runs code and collects its outputs as nbformat does, until the reply and the idle status. */
  async execute(code: string, options: ExecuteOptions = {}): Promise<Execution> {
    const req = this.message("execute_request", {
      code,
      silent: options.silent ?? false,
      store_history: !(options.silent ?? false),
      user_expressions: {},
      allow_stdin: false,
      stop_on_error: options.stopOnError ?? true,
    });
    const cell = cellOutputs(this.displays);
    let idle!: () => void;
    const becameIdle = new Promise<void>((r) => (idle = r));
    let lastIopub = Date.now();
    this.iopubListeners.set(req.header.msg_id, (m) => {
      lastIopub = Date.now();
      options.onIopub?.(m);
      cell.add(m);
      if (m.header.msg_type === "status" && m.content.execution_state === "idle") idle();
    });
    let timedOut = false;
    let timer: NodeJS.Timeout | undefined;
    try {
      const replyPromise = this.request(this.sendShell, req);
      if (options.timeoutMs) {
        timer = setTimeout(() => {
          timedOut = true;
          void this.interrupt().catch(() => {});
        }, options.timeoutMs);
      }
      const reply = await replyPromise;
      // The idle status follows the reply: wait for it while outputs still arrive (a cell that
      // printed a lot is still streaming), and at most 5 s after the last one.
      const quiet = async () => {
        while (Date.now() - lastIopub < 5000) await delay(Math.max(10, 5000 - (Date.now() - lastIopub)));
      };
      await Promise.race([becameIdle, quiet(), this.exited]);
      return { reply: reply.content, outputs: cell.outputs, timedOut };
    } finally {
      clearTimeout(timer);
      this.iopubListeners.delete(req.header.msg_id);
    }
  }

  async interrupt(how: "message" | "signal" = "message"): Promise<void> {
    if (how === "signal") this.process.kill("SIGINT");
    else await this.call("control", "interrupt_request", {});
  }

  /** Asks the kernel to stop; kills it if it has not exited within `graceMs`. */
  async shutdown(graceMs = 4000): Promise<void> {
    if (this.closed) return;
    if (this.process.exitCode === null && this.process.signalCode === null) {
      await Promise.race([
        this.call("control", "shutdown_request", { restart: false }).catch(() => {}),
        delay(graceMs),
      ]);
      const gone = await Promise.race([this.exited.then(() => true), delay(graceMs).then(() => false)]);
      if (!gone) {
        this.process.kill("SIGKILL");
        await this.exited;
      }
    }
    this.closed = true;
    for (const s of [this.shell, this.control, this.iopub]) s.close();
    rmSync(dirname(this.connectionFile), { recursive: true, force: true });
  }

  /** A fresh kernel process with the same options (state is lost, as in Jupyter). */
  async restart(): Promise<KernelClient> {
    await this.shutdown();
    return KernelClient.start(this.options);
  }

  get alive(): boolean {
    return !this.closed && this.process.exitCode === null && this.process.signalCode === null;
  }

  /** One heartbeat round trip; false if the kernel does not echo within `timeoutMs`. */
  async heartbeat(timeoutMs = 2000): Promise<boolean> {
    const hb = new zmq.Request({ receiveTimeout: timeoutMs, sendTimeout: timeoutMs, linger: 0 });
    hb.connect(endpoint(this.info, this.info.hb_port));
    try {
      const ping = Buffer.from(randomUUID());
      await hb.send(ping);
      const [pong] = await hb.receive();
      return Buffer.from(pong).equals(ping);
    } catch {
      return false;
    } finally {
      hb.close();
    }
  }

  /** Watches the heartbeat; three missed beats in a row count as a dead kernel. */
  private watchHeartbeat() {
    let missed = 0;
    const timer: NodeJS.Timeout = setInterval(async () => {
      if (!this.alive) return clearInterval(timer);
      missed = (await this.heartbeat(2000)) ? 0 : missed + 1;
      if (missed >= 3) {
        clearInterval(timer);
        this.failAll(new KernelDiedError("kernel stopped answering its heartbeat"));
        this.process.kill("SIGKILL");
      }
    }, 3000);
    timer.unref();
  }
}

const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());
