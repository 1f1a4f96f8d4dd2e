// Running helper functions elsewhere: `startAgent()` starts an agent process (os/agent.ts) and
// `agent.run(module, "fn", ...args)` calls `fn` of that helper module there. The one way wirebook
// runs code in another process: a lab host's agent is started through `ip netns exec` (its
// sockets belong to the host), a measurement's peer plainly (its own event loop and core).
// Arguments and results cross by structured clone, so Buffers and Uint8Arrays arrive as
// themselves; a result with a close() method stays alive over there as a service, and you get its
// data and async versions of its methods. A plain agent is stopped at kernel shutdown if not before.
import { spawn, type ChildProcess, type StdioOptions } from "node:child_process";
import { join } from "node:path";
import { onShutdown, stopProcess } from "../../kernel/runtime";
import type { Reply, Request } from "./agent";

/** What a call returns over there, as you get it here: methods become async. */
export type Remote<T> = T extends object
  ? { [K in keyof T]: T[K] extends (...a: infer A) => infer R ? (...a: A) => Promise<Awaited<R>> : T[K] }
  : T;

/** The arguments and the awaited, remote-shaped result of `fn` of module M. */
export type Args<M, K extends keyof M> = M[K] extends (...a: infer A) => unknown ? A : never;
export type Result<M, K extends keyof M> = M[K] extends (...a: never[]) => infer R ? Remote<Awaited<R>> : never;

/** An error thrown by the function over there, with its name, code and message. */
export class RemoteError extends Error {
  constructor(
    name: string,
    message: string,
    readonly code?: string,
  ) {
    super(message);
    this.name = name;
  }
}

export class AgentError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "AgentError";
  }
}

export interface AgentOptions {
  /** Names the agent in errors: `the agent in host "b"`. */
  name?: string;
  /** Starts the process: given the command line, stdio and environment (the lab wraps it in
   *  `ip netns exec` and tracks it). By default a plain child process. */
  launch?: (argv: string[], stdio: StdioOptions, env: NodeJS.ProcessEnv) => ChildProcess;
  env?: NodeJS.ProcessEnv;
  /** Stop the agent at kernel shutdown (default true; a lab stops its own agents). */
  stopAtShutdown?: boolean;
}

const AGENT = join(__dirname, "agent.ts");
const TSX = require.resolve("tsx/cjs");

interface Pending {
  resolve(v: unknown): void;
  reject(e: Error): void;
}

export class Agent {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private gone?: AgentError;
  private stopped?: Promise<void>;
  private readonly forget: () => Promise<void>;

  private constructor(
    readonly child: ChildProcess,
    readonly name: string,
    stopAtShutdown: boolean,
  ) {
    this.forget = stopAtShutdown ? onShutdown(() => this.stop()) : async () => {};
  }

  static async start(options: AgentOptions = {}): Promise<Agent> {
    const name = options.name ?? "the agent";
    const argv = [process.execPath, "--require", TSX, AGENT];
    const stdio: StdioOptions = ["ignore", "inherit", "inherit", "ipc"];
    const env = options.env ?? process.env;
    const launch =
      options.launch ?? ((a, s, e) => spawn(a[0], a.slice(1), { stdio: s, env: e, serialization: "advanced" }));
    const child = launch(argv, stdio, env);
    const agent = new Agent(child, name, options.stopAtShutdown ?? true);
    await agent.ready();
    return agent;
  }

  private ready(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.child.once("error", (e) =>
        reject(new AgentError("ERR_AGENT_START", `${this.name} did not start: ${e.message}`)),
      );
      this.child.once("exit", (code, signal) => {
        const err = new AgentError(
          "ERR_AGENT_EXITED",
          `${this.name} exited (${signal ?? `code ${code}`}); was it closed?`,
        );
        this.gone = err;
        reject(err);
        for (const p of this.pending.values()) p.reject(err);
        this.pending.clear();
      });
      this.child.on("message", (m: Reply) => {
        if ("ready" in m) return resolve();
        const p = this.pending.get(m.id);
        this.pending.delete(m.id);
        if (!p) return;
        // `=== false`, not `!m.ok`: tslab type-checks helpers without strictNullChecks, where only
        // a comparison narrows the union.
        if (m.ok === false) return p.reject(new RemoteError(m.error.name, m.error.message, m.error.code));
        p.resolve(m.handle ? this.service(m.value, m.handle, m.methods ?? []) : m.value);
      });
    });
  }

  /**
   * Calls `fn` of a helper module over there, e.g. `agent.run(services, "udpServer", 5353)`.
   * Pass the module itself (`import * as services from "wirebook/helpers/net/services"`) or the
   * path of its file.
   */
  async run<M extends object, K extends keyof M & string>(
    mod: M | string,
    fn: K,
    ...args: Args<M, K>
  ): Promise<Result<M, K>> {
    const file = typeof mod === "string" ? require.resolve(mod) : moduleFile(mod, fn);
    const value = await this.request({ file, fn, args });
    return value as Result<M, K>; // what `fn` returned, as the agent describes it (see Remote)
  }

  private request(message: Omit<CallRequest, "id"> | Omit<MethodRequest, "id">): Promise<unknown> {
    return new Promise((resolve, reject) => {
      if (this.gone) return reject(this.gone); // a service used after close: fail now, never hang
      const id = this.nextId++;
      this.pending.set(id, { resolve, reject });
      const request: Request = { id, ...message };
      this.child.send(request, (e) => {
        if (e) {
          this.pending.delete(id);
          reject(new AgentError("ERR_AGENT_SEND", `${this.name}: ${e.message}`));
        }
      });
    });
  }

  private service(data: unknown, handle: number, methods: string[]): object {
    const service: Record<string, unknown> = typeof data === "object" && data !== null ? { ...data } : {};
    for (const method of methods) service[method] = (...args: unknown[]) => this.request({ handle, method, args });
    return service;
  }

  /** Closes the agent's services and ends it (SIGKILL if it does not exit in time). */
  stop(): Promise<void> {
    this.stopped ??= (async () => {
      if (this.child.connected) this.child.disconnect(); // the agent closes its services and exits
      await stopProcess(this.child, 3000);
    })();
    return this.stopped;
  }

  /** Stops the agent now and forgets its shutdown hook. */
  close(): Promise<void> {
    return this.forget().then(() => this.stop());
  }
}

type CallRequest = Extract<Request, { file: string }>;
type MethodRequest = Extract<Request, { handle: number }>;

/** Starts an agent: a process of its own that runs helper functions. */
export const startAgent = (options?: AgentOptions): Promise<Agent> => Agent.start(options);

/** The file a helper module was loaded from: the agent loads the same file. Found by the function
 *  itself, since `import * as` may hand out a copy of the exports object. */
function moduleFile(mod: object, fn: string): string {
  const wanted = Reflect.get(mod, fn);
  const entry = typeof wanted === "function" && Object.values(require.cache).find((m) => m?.exports?.[fn] === wanted);
  if (!entry) {
    throw new AgentError(
      "ERR_AGENT_MODULE",
      'pass a helper module imported with `import * as name from "wirebook/helpers/…"`, or its path',
    );
  }
  return entry.filename;
}
