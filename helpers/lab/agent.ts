// The lab's agent: a Node process started inside one host's network namespace. Sockets it opens
// belong to that namespace, so helper functions run here see the host's interfaces, addresses and
// routes. It reads requests as JSON lines on stdin and answers on fd 3 (stdout and stderr stay
// free for what the functions print). It exits when stdin closes: a dead kernel leaves no agent.
import { createWriteStream } from "node:fs";
import { createInterface } from "node:readline";

interface CallRequest {
  id: number;
  file: string;
  fn: string;
  args: unknown[];
}
interface MethodRequest {
  id: number;
  handle: number;
  method: string;
  args: unknown[];
}

/** A long-lived result (a server): kept here, its methods called by later requests. */
interface Service {
  close(): unknown;
  [method: string]: unknown;
}

const replies = createWriteStream("", { fd: 3 });
const services = new Map<number, Service>();
let nextHandle = 1;

function reply(message: object): void {
  replies.write(`${JSON.stringify(message)}\n`);
}

function isService(v: unknown): v is Service {
  return !!v && typeof v === "object" && typeof (v as Service).close === "function";
}

function methodNames(o: object): string[] {
  const names = new Set<string>();
  for (let p = o; p && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    for (const k of Object.getOwnPropertyNames(p))
      if (k !== "constructor" && typeof (o as any)[k] === "function") names.add(k);
  }
  return [...names];
}

/** A result as JSON; a service becomes its data plus a handle and the names of its methods. */
function describe(value: unknown): object {
  if (!isService(value)) return { value };
  const handle = nextHandle++;
  services.set(handle, value);
  const data = Object.fromEntries(Object.entries(value).filter(([, v]) => typeof v !== "function"));
  return { value: data, handle, methods: methodNames(value) };
}

async function handle(request: CallRequest | MethodRequest): Promise<void> {
  try {
    let value: unknown;
    if ("handle" in request) {
      const service = services.get(request.handle);
      if (!service) throw new Error(`no service with handle ${request.handle} (already closed?)`);
      if (request.method === "close") services.delete(request.handle);
      value = await (service[request.method] as (...a: unknown[]) => unknown).apply(service, request.args);
    } else {
      const mod = require(request.file);
      if (typeof mod[request.fn] !== "function") throw new Error(`${request.file} exports no function ${request.fn}`);
      value = await mod[request.fn](...request.args);
    }
    reply({ id: request.id, ok: true, ...describe(value) });
  } catch (e) {
    const err = e as Error & { code?: string };
    reply({
      id: request.id,
      ok: false,
      error: { name: err?.name ?? "Error", code: err?.code, message: String(err?.message ?? e) },
    });
  }
}

async function shutdown(): Promise<void> {
  const closing = [...services.values()].map((s) =>
    Promise.resolve()
      .then(() => s.close())
      .catch(() => {}),
  );
  services.clear();
  await Promise.race([Promise.all(closing), new Promise((r) => setTimeout(r, 2000))]);
  process.exit(0);
}

createInterface({ input: process.stdin })
  .on("line", (line) => void handle(JSON.parse(line)))
  .on("close", () => void shutdown());
process.on("SIGTERM", () => void shutdown());
reply({ ready: true });
