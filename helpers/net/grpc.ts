// gRPC at work, on @grpc/grpc-js with messages from protobufjs: a service described by .proto text
// becomes a grpc-js service definition (each message serialized by protobufjs), served on a port
// of its own and closed at kernel shutdown if not before, and called by four small clients, one
// per kind of RPC (unary, server streaming, client streaming, bidirectional), that resolve with
// plain data: the status code and its name, the details, the reply messages and both sets of
// metadata. A failed call is an answer here (DEADLINE_EXCEEDED is a result, not an exception).
// The Greeter is a small demo service with all four kinds, a slow unary call for deadlines and
// metadata echoed back; it runs here or inside a lab host
// (`lab.host("b").run(grpc, "greeterServer", 50051)`, then `greeterHello` from another host).
import * as grpcJs from "@grpc/grpc-js";
import * as protobuf from "protobufjs";
import { onShutdown } from "../../kernel/runtime";

/** A message as protobufjs' toObject gives it: field names as in the .proto, 64-bit as strings. */
export type Message = Record<string, unknown>;

export interface ProtoService {
  /** grpc-js' description of the service: paths, streaming kinds, (de)serializers. */
  definition: grpcJs.ServiceDefinition;
  /** The parsed .proto, for its message types. */
  root: protobuf.Root;
  /** Method name → its full path on the wire, "/package.Service/Method". */
  paths: Record<string, string>;
}

const objectOptions = { longs: String, enums: String, bytes: Buffer, defaults: true } as const;

/** The service `name` ("package.Service") of the .proto text `proto`. Field names keep their case. */
export function protoService(proto: string, name: string): ProtoService {
  const root = protobuf.parse(proto, { keepCase: true }).root;
  const service = root.lookupService(name);
  const definition: Record<string, grpcJs.MethodDefinition<Message, Message>> = {};
  const paths: Record<string, string> = {};
  for (const m of service.methodsArray) {
    const req = root.lookupType(m.requestType);
    const res = root.lookupType(m.responseType);
    const path = `/${name}/${m.name}`;
    paths[m.name] = path;
    definition[m.name] = {
      path,
      requestStream: !!m.requestStream,
      responseStream: !!m.responseStream,
      requestSerialize: (v: Message) => Buffer.from(req.encode(req.fromObject(v)).finish()),
      requestDeserialize: (b: Buffer) => req.toObject(req.decode(b), objectOptions),
      responseSerialize: (v: Message) => Buffer.from(res.encode(res.fromObject(v)).finish()),
      responseDeserialize: (b: Buffer) => res.toObject(res.decode(b), objectOptions),
    };
  }
  return { definition, root, paths };
}

/** A gRPC server for `service` with `handlers` on `host`:`port` (0: any free port), plaintext
 *  HTTP/2 (h2c). Closed at kernel shutdown if not before; close() cancels calls still running. */
export async function startGrpcServer(
  service: ProtoService,
  handlers: grpcJs.UntypedServiceImplementation,
  opts: { host?: string; port?: number } = {},
) {
  const server = new grpcJs.Server();
  server.addService(service.definition, handlers);
  const host = opts.host ?? "127.0.0.1";
  const where = host.includes(":") ? `[${host}]` : host;
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${where}:${opts.port ?? 0}`, grpcJs.ServerCredentials.createInsecure(), (e, p) =>
      e ? reject(e) : resolve(p),
    ),
  );
  let closing: Promise<void> | undefined;
  const close = onShutdown(() => server.forceShutdown());
  return { port, close: () => (closing ??= close()) };
}

/** What a call ended with, as plain data. */
export interface CallResult {
  /** grpc status code: 0 OK, 4 DEADLINE_EXCEEDED, … */
  code: number;
  /** Its name, as the spec writes it. */
  status: string;
  details: string;
  /** The messages the server sent, in order. */
  replies: Message[];
  /** The server's initial metadata (response headers), keys lower-case. */
  headers: Record<string, string>;
  /** The server's trailing metadata (grpc-status and grpc-message are not in it). */
  trailers: Record<string, string>;
}

export interface CallOptions {
  /** Request metadata (sent as HTTP/2 headers). */
  metadata?: Record<string, string>;
  /** A deadline this many ms from now (sent as grpc-timeout). */
  deadlineMs?: number;
}

const statusName = (code: number): string => grpcJs.status[code] ?? `UNKNOWN_CODE_${code}`;
const plain = (md: grpcJs.Metadata | undefined): Record<string, string> =>
  Object.fromEntries(Object.entries(md?.getMap() ?? {}).map(([k, v]) => [k, v.toString()]));
function metadataOf(m: Record<string, string> | undefined): grpcJs.Metadata {
  const md = new grpcJs.Metadata();
  for (const [k, v] of Object.entries(m ?? {})) md.set(k, v);
  return md;
}
function optionsOf(o: CallOptions): grpcJs.CallOptions {
  return o.deadlineMs === undefined ? {} : { deadline: new Date(Date.now() + o.deadlineMs) };
}

/** A client for `service` at `address`:`port`, plaintext; close() it when done. */
export function grpcClient(service: ProtoService, address: string, port: number) {
  const where = address.includes(":") ? `[${address}]` : address;
  const client = new grpcJs.Client(`${where}:${port}`, grpcJs.credentials.createInsecure());
  let closing: Promise<void> | undefined;
  const close = onShutdown(() => client.close());
  const method = (name: string) => {
    const d = service.definition[name];
    if (d === undefined) throw new RangeError(`the service has no method ${JSON.stringify(name)}`);
    return d;
  };
  /** Wires one call's events into a CallResult. */
  const collect = (call: grpcJs.ClientReadableStream<Message> | grpcJs.ClientDuplexStream<Message, Message>) =>
    new Promise<CallResult>((resolve) => {
      const replies: Message[] = [];
      let headers: Record<string, string> = {};
      call.on("metadata", (md: grpcJs.Metadata) => (headers = plain(md)));
      call.on("data", (m: Message) => replies.push(m));
      call.on("error", () => {}); // the status below says it
      call.on("status", (s: grpcJs.StatusObject) =>
        resolve({
          code: s.code,
          status: statusName(s.code),
          details: s.details,
          replies,
          headers,
          trailers: plain(s.metadata),
        }),
      );
    });
  return {
    /** One request, one reply. */
    unary(name: string, request: Message, opts: CallOptions = {}): Promise<CallResult> {
      const d = method(name);
      return new Promise<CallResult>((resolve) => {
        let headers: Record<string, string> = {};
        const replies: Message[] = [];
        const call = client.makeUnaryRequest<Message, Message>(
          d.path,
          d.requestSerialize,
          d.responseDeserialize,
          request,
          metadataOf(opts.metadata),
          optionsOf(opts),
          (_e, reply) => void (reply !== undefined && replies.push(reply)),
        );
        call.on("metadata", (md: grpcJs.Metadata) => (headers = plain(md)));
        call.on("status", (s: grpcJs.StatusObject) =>
          resolve({
            code: s.code,
            status: statusName(s.code),
            details: s.details,
            replies,
            headers,
            trailers: plain(s.metadata),
          }),
        );
      });
    },
    /** One request, a stream of replies. */
    serverStream(name: string, request: Message, opts: CallOptions = {}): Promise<CallResult> {
      const d = method(name);
      const call = client.makeServerStreamRequest<Message, Message>(
        d.path,
        d.requestSerialize,
        d.responseDeserialize,
        request,
        metadataOf(opts.metadata),
        optionsOf(opts),
      );
      return collect(call);
    },
    /** A stream of requests, one reply. */
    clientStream(name: string, requests: Message[], opts: CallOptions = {}): Promise<CallResult> {
      const d = method(name);
      return new Promise<CallResult>((resolve) => {
        let headers: Record<string, string> = {};
        const replies: Message[] = [];
        const call = client.makeClientStreamRequest<Message, Message>(
          d.path,
          d.requestSerialize,
          d.responseDeserialize,
          metadataOf(opts.metadata),
          optionsOf(opts),
          (_e, reply) => void (reply !== undefined && replies.push(reply)),
        );
        call.on("metadata", (md: grpcJs.Metadata) => (headers = plain(md)));
        call.on("status", (s: grpcJs.StatusObject) =>
          resolve({
            code: s.code,
            status: statusName(s.code),
            details: s.details,
            replies,
            headers,
            trailers: plain(s.metadata),
          }),
        );
        for (const r of requests) call.write(r);
        call.end();
      });
    },
    /** Requests and replies in both directions; each request is written after the reply to the
     *  one before it has arrived, when `lockstep` is set, so the order on the wire interleaves. */
    bidi(name: string, requests: Message[], opts: CallOptions & { lockstep?: boolean } = {}): Promise<CallResult> {
      const d = method(name);
      const call = client.makeBidiStreamRequest<Message, Message>(
        d.path,
        d.requestSerialize,
        d.responseDeserialize,
        metadataOf(opts.metadata),
        optionsOf(opts),
      );
      const done = collect(call);
      const queue = requests.slice();
      const next = () => {
        const r = queue.shift();
        if (r === undefined) call.end();
        else call.write(r);
      };
      if (opts.lockstep) {
        call.on("data", () => next());
        next();
      } else {
        for (const r of requests) call.write(r);
        call.end();
      }
      return done;
    },
    close: () => (closing ??= close()),
  };
}

// ---- the Greeter, a demo service -----------------------------------------------------------------

export const GREETER_PROTO = `syntax = "proto3";
package wirebook;

message HelloRequest {
  string name = 1;
  uint32 times = 2;     // SayHellos: how many replies
  uint32 delay_ms = 3;  // SayHello: wait this long before answering
}
message HelloReply {
  string message = 1;
  uint32 count = 2;
}
service Greeter {
  rpc SayHello (HelloRequest) returns (HelloReply);                 // unary
  rpc SayHellos (HelloRequest) returns (stream HelloReply);         // server streaming
  rpc CountNames (stream HelloRequest) returns (HelloReply);        // client streaming
  rpc Chat (stream HelloRequest) returns (stream HelloReply);       // bidirectional
}
`;

/** The Greeter's service description. */
export const greeter = (): ProtoService => protoService(GREETER_PROTO, "wirebook.Greeter");

const str = (v: unknown): string => (typeof v === "string" ? v : "");
const num = (v: unknown): number => (typeof v === "number" ? v : 0);
const fail = (code: grpcJs.status, details: string) => Object.assign(new Error(details), { code, details });

/** What the Greeter does: SayHello answers "hello, NAME" after delay_ms (INVALID_ARGUMENT for an
 *  empty name), copies the request's `x-trace` metadata into its response headers and sends a
 *  trailer `x-greeted: NAME`; SayHellos sends `times` replies (OUT_OF_RANGE above 100);
 *  CountNames counts the names it was sent; Chat answers each request as it arrives. */
export function greeterHandlers(): grpcJs.UntypedServiceImplementation {
  const echoTrace = (call: { metadata: grpcJs.Metadata; sendMetadata(md: grpcJs.Metadata): void }) => {
    const md = new grpcJs.Metadata();
    const trace = call.metadata.get("x-trace")[0];
    if (trace !== undefined) md.set("x-trace", trace.toString());
    call.sendMetadata(md);
  };
  const sayHello: grpcJs.handleUnaryCall<Message, Message> = (call, callback) => {
    const name = str(call.request.name);
    if (!name) return callback(fail(grpcJs.status.INVALID_ARGUMENT, "name is empty"));
    echoTrace(call);
    const timer = setTimeout(() => {
      const trailer = new grpcJs.Metadata();
      trailer.set("x-greeted", name);
      callback(null, { message: `hello, ${name}`, count: 1 }, trailer);
    }, num(call.request.delay_ms));
    call.on("cancelled", () => clearTimeout(timer));
  };
  const sayHellos: grpcJs.handleServerStreamingCall<Message, Message> = (call) => {
    const times = num(call.request.times);
    if (times > 100)
      return void call.emit("error", fail(grpcJs.status.OUT_OF_RANGE, `times is at most 100, not ${times}`));
    for (let i = 1; i <= times; i++) call.write({ message: `hello #${i}, ${str(call.request.name)}`, count: i });
    call.end();
  };
  const countNames: grpcJs.handleClientStreamingCall<Message, Message> = (call, callback) => {
    const names: string[] = [];
    call.on("data", (m: Message) => names.push(str(m.name)));
    call.on("end", () => callback(null, { message: names.join(", "), count: names.length }));
  };
  const chat: grpcJs.handleBidiStreamingCall<Message, Message> = (call) => {
    let n = 0;
    call.on("data", (m: Message) => call.write({ message: `hello, ${str(m.name)}`, count: ++n }));
    call.on("end", () => call.end());
  };
  return { SayHello: sayHello, SayHellos: sayHellos, CountNames: countNames, Chat: chat };
}

/** The Greeter on `port` (0: any) of `host`: a service whose close() ends it. */
export async function greeterServer(port = 0, host = "127.0.0.1") {
  return startGrpcServer(greeter(), greeterHandlers(), { host, port });
}

/** One SayHello to the Greeter at `address`:`port`, then the client is closed: what it ended with. */
export async function greeterHello(address: string, port: number, name: string, opts: CallOptions = {}) {
  const client = grpcClient(greeter(), address, port);
  try {
    return await client.unary("SayHello", { name }, opts);
  } finally {
    await client.close();
  }
}
