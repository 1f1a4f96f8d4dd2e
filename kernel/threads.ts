// Messages between the main (executing) thread and the wire thread.
import type { Message } from "./protocol";

export type OutgoingMessage = Omit<Message, "buffers" | "identities"> & { identities: Uint8Array[] };

export type ToWire =
  | { kind: "send"; channel: "shell" | "iopub"; msg: OutgoingMessage }
  | { kind: "cleaned-up" };

export type ToMain =
  | { kind: "bound" }
  | { kind: "shell"; msg: Message }
  | { kind: "shutdown" }
  | { kind: "exit" };
