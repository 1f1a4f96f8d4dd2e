// The agent: a Node process that runs helper functions for another one (os/remote.ts starts it).
// Started inside a lab host's network namespace, its sockets belong to that host; started plainly,
// it is a process of its own (its own event loop and core: a throughput sink, a latency peer).
// Requests and replies travel over Node's IPC channel with structured clone ("advanced"
// serialization), so Buffers, Uint8Arrays, Maps, Dates and BigInts arrive as themselves. A result
// with a close() method is a service: it stays here, and later requests call its methods. The
// agent closes its services and exits when the channel closes: a dead parent leaves no agent.

export interface CallRequest {
  id: number;
  file: string;
  fn: string;
  args: unknown[];
}
export interface MethodRequest {
  id: number;
  handle: number;
  method: string;
  args: unknown[];
}
export type Request = CallRequest | MethodRequest;

export interface RemoteErrorData {
  name: string;
  code?: string;
  message: string;
}
export type Reply =
  | { ready: true }
  | { id: number; ok: true; value: unknown; handle?: number; methods?: string[] }
  | { id: number; ok: false; error: RemoteErrorData };

/** A long-lived result (a server): kept here, its methods called by later requests. */
interface Service {
  close(): unknown;
  [method: string]: unknown;
}

const isService = (v: unknown): v is Service =>
  typeof v === "object" && v !== null && typeof Reflect.get(v, "close") === "function";

function methodNames(o: object): string[] {
  const names = new Set<string>();
  for (let p: object | null = o; p && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    for (const k of Object.getOwnPropertyNames(p))
      if (k !== "constructor" && typeof Reflect.get(o, k) === "function") names.add(k);
  }
  return [...names];
}

function main(): void {
  const send = process.send?.bind(process);
  if (!send) {
    process.stderr.write("the agent is started by helpers/os/remote.ts, with an IPC channel\n");
    process.exit(2);
  }
  const reply = (message: Reply) => send(message);
  const services = new Map<number, Service>();
  let nextHandle = 1;

  /** A result as it crosses: a service becomes its data plus a handle and its methods' names. */
  const describe = (value: unknown) => {
    if (!isService(value)) return { value };
    const handle = nextHandle++;
    services.set(handle, value);
    const data = Object.fromEntries(Object.entries(value).filter(([, v]) => typeof v !== "function"));
    return { value: data, handle, methods: methodNames(value) };
  };

  const call = async (request: Request): Promise<unknown> => {
    if ("handle" in request) {
      const service = services.get(request.handle);
      if (!service) throw new Error(`no service with handle ${request.handle} (already closed?)`);
      if (request.method === "close") services.delete(request.handle);
      const method = service[request.method];
      if (typeof method !== "function") throw new Error(`the service has no method ${request.method}`);
      return method.apply(service, request.args);
    }
    const mod: Record<string, unknown> = require(request.file);
    const fn = mod[request.fn];
    if (typeof fn !== "function") throw new Error(`${request.file} exports no function ${request.fn}`);
    return fn(...request.args);
  };

  const handle = async (request: Request) => {
    try {
      reply({ id: request.id, ok: true, ...describe(await call(request)) });
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      const code = Reflect.get(err, "code");
      reply({
        id: request.id,
        ok: false,
        error: { name: err.name, code: typeof code === "string" ? code : undefined, message: err.message },
      });
    }
  };

  let closing = false;
  const shutdown = async () => {
    if (closing) return;
    closing = true;
    const all = [...services.values()].map((s) =>
      Promise.resolve()
        .then(() => s.close())
        .catch(() => {}),
    );
    services.clear();
    await Promise.race([Promise.all(all), new Promise((r) => setTimeout(r, 2000))]);
    process.exit(0);
  };

  process.on("message", (m: Request) => void handle(m));
  process.on("disconnect", () => void shutdown());
  process.on("SIGTERM", () => void shutdown());
  reply({ ready: true });
}

if (require.main === module) main();
