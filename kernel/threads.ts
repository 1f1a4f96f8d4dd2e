// Messages between the main (executing) thread and the wire thread.
import type { Message } from "./protocol";

/** A message the main thread has serialized; the wire thread only signs and sends it (posting
 *  strings between threads is much cheaper than cloning message objects). */
export interface OutgoingMessage {
  identities: Uint8Array[];
  parts: string[];
  /** Binary buffers after the JSON parts (comm messages carry them). */
  buffers?: Uint8Array[];
}

export type ToWire =
  | { kind: "send"; channel: "shell" | "iopub"; msg: OutgoingMessage }
  | { kind: "cleaned-up" }
  /** Close the sockets (after what was sent before), then tell main to exit with `code`. */
  | { kind: "close"; code: number };

export type ToMain =
  { kind: "bound" } | { kind: "shell"; msg: Message } | { kind: "shutdown" } | { kind: "exit"; code?: number };
