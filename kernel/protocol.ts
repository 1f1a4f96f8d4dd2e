// Jupyter wire protocol 5.3: framing and HMAC signatures, shared by the kernel and the client.
// https://jupyter-client.readthedocs.io/en/stable/messaging.html#the-wire-protocol
import { createHmac, randomUUID, timingSafeEqual } from "node:crypto";

export const PROTOCOL_VERSION = "5.3";
const DELIMITER = Buffer.from("<IDS|MSG>");

export interface Header {
  msg_id: string;
  session: string;
  username: string;
  date: string;
  msg_type: string;
  version: string;
}

export interface Message<C = Record<string, any>> {
  identities: Buffer[];
  header: Header;
  parent_header: Header | Record<string, never>;
  metadata: Record<string, any>;
  content: C;
  buffers: Buffer[];
}

export class ProtocolError extends Error {
  code = "ERR_JUPYTER_PROTOCOL";
}

/** Signs message parts with the connection file's key; an empty key means "no signing". */
export class Signer {
  private readonly algorithm: string;
  constructor(
    private readonly key: string,
    scheme = "hmac-sha256",
  ) {
    if (!scheme.startsWith("hmac-")) throw new ProtocolError(`unsupported signature_scheme ${scheme}`);
    this.algorithm = scheme.slice("hmac-".length);
  }

  sign(parts: Buffer[]): string {
    if (!this.key) return "";
    const hmac = createHmac(this.algorithm, this.key);
    for (const p of parts) hmac.update(p);
    return hmac.digest("hex");
  }

  verify(signature: string, parts: Buffer[]): boolean {
    if (!this.key) return true;
    const expected = Buffer.from(this.sign(parts));
    const got = Buffer.from(signature);
    return expected.length === got.length && timingSafeEqual(expected, got);
  }
}

export function newHeader(msg_type: string, session: string, username = "wirebook"): Header {
  return {
    msg_id: randomUUID(),
    session,
    username,
    date: new Date().toISOString(),
    msg_type,
    version: PROTOCOL_VERSION,
  };
}

/** Frames a message for a zmq socket: identities, delimiter, signature, four JSON parts, buffers. */
export function encode(msg: Omit<Message, "buffers"> & { buffers?: Buffer[] }, signer: Signer): Buffer[] {
  return frame(msg.identities, jsonParts(msg), signer, msg.buffers);
}

/** The four JSON parts of a message (header, parent header, metadata, content). */
export function jsonParts(msg: Pick<Message, "header" | "parent_header" | "metadata" | "content">): string[] {
  return [msg.header, msg.parent_header, msg.metadata, msg.content].map((p) => JSON.stringify(p));
}

/** Frames already-serialized parts: identities, delimiter, signature, parts, buffers. */
export function frame(identities: Uint8Array[], parts: string[], signer: Signer, buffers: Buffer[] = []): Buffer[] {
  const bytes = parts.map((p) => Buffer.from(p));
  return [...identities.map((i) => Buffer.from(i)), DELIMITER, Buffer.from(signer.sign(bytes)), ...bytes, ...buffers];
}

/** Parses frames from a zmq socket; throws ProtocolError on bad framing or a bad signature. */
export function decode(frames: Buffer[], signer: Signer): Message {
  const at = frames.findIndex((f) => f.equals(DELIMITER));
  if (at < 0) throw new ProtocolError("message has no <IDS|MSG> delimiter");
  if (frames.length < at + 6)
    throw new ProtocolError(`message has ${frames.length - at - 1} parts after the delimiter, need 5`);
  const signature = frames[at + 1].toString();
  const parts = frames.slice(at + 2, at + 6);
  if (!signer.verify(signature, parts)) throw new ProtocolError("message signature does not match; dropped");
  const [header, parent_header, metadata, content] = parts.map((p, i) => {
    try {
      return JSON.parse(p.toString("utf8"));
    } catch {
      throw new ProtocolError(`message part ${i} is not JSON`);
    }
  });
  if (typeof header?.msg_type !== "string") throw new ProtocolError("message header has no msg_type");
  return { identities: frames.slice(0, at), header, parent_header, metadata, content, buffers: frames.slice(at + 6) };
}

/** Builds a message that answers (or is caused by) `parent`, e.g. a reply or an iopub output. */
export function child<C>(
  parent: Pick<Message, "header" | "identities">,
  msg_type: string,
  content: C,
  identities = parent.identities,
): Omit<Message<C>, "buffers"> {
  return {
    identities,
    header: newHeader(msg_type, parent.header.session, parent.header.username),
    parent_header: parent.header,
    metadata: {},
    content,
  };
}

/** A zmq socket allows one send in flight; this queues the rest in order. */
export function serialSender(send: (frames: Buffer[]) => Promise<void>): (frames: Buffer[]) => Promise<void> {
  let tail: Promise<void> = Promise.resolve();
  return (frames) => {
    const next = tail.then(() => send(frames));
    tail = next.catch(() => {});
    return next;
  };
}
