// Jupyter comms, both ways: the kernel opens a comm (comm_open on iopub) or a frontend does (on
// shell, to a target a cell registered); then either side sends comm_msg and closes it with
// comm_close. Data is JSON, with binary buffers beside it. comm_info_request lists the open comms,
// filtered by target. Widgets (helpers/view/widgets.ts) are built on this.
import { randomUUID } from "node:crypto";
import type { Message } from "./protocol";
import type { Comm, CommMessage, Comms, CommSendOptions } from "./runtime";

export interface CommHost {
  /** Publishes on iopub, caused by `parent`; buffers go after the JSON parts; `metadata` is the
   *  message's own (where the widget protocol puts its version), not a part of the content. */
  publish(parent: Message, type: string, content: object, buffers?: Buffer[], metadata?: object): void;
  /** The message kernel-side sends answer: the frontend message being handled, else the running
   *  (or last) cell; null before anything ran, when a send has nobody to go to. */
  parent(): Message | null;
  /** A handler threw: reported as an error output, never a crash. */
  reportError(e: unknown): void;
}

export interface KernelComms extends Comms {
  /** comm_open, comm_msg or comm_close from a frontend. */
  receive(req: Message): void;
  /** comm_info_reply's content: the open comms, those of one target if given. */
  info(target?: string): Record<string, { target_name: string }>;
  /** Closes every comm (at shutdown), telling the frontend. */
  closeAll(): void;
}

interface Entry {
  comm: Comm;
  onMessage: Array<(m: CommMessage) => void>;
  onClose: Array<(m: CommMessage) => void>;
  markClosed(): void;
}

const record = (v: unknown): Record<string, unknown> =>
  v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : {};

export function createComms(host: CommHost): KernelComms {
  const open = new Map<string, Entry>();
  const targets = new Map<string, (comm: Comm, opened: CommMessage) => void>();

  function send(type: string, content: object, options: CommSendOptions) {
    const parent = host.parent();
    if (parent) host.publish(parent, type, content, options.buffers, options.metadata ?? {});
  }

  function make(id: string, target: string): Entry {
    let closed = false;
    const entry: Entry = {
      onMessage: [],
      onClose: [],
      markClosed() {
        closed = true;
        open.delete(id);
      },
      comm: {
        id,
        target,
        get closed() {
          return closed;
        },
        send(data, options = {}) {
          if (!closed) send("comm_msg", { comm_id: id, data }, options);
        },
        close(data = {}) {
          if (closed) return;
          entry.markClosed();
          send("comm_close", { comm_id: id, data }, {});
        },
        onMessage(handler) {
          entry.onMessage.push(handler);
        },
        onClose(handler) {
          entry.onClose.push(handler);
        },
      },
    };
    open.set(id, entry);
    return entry;
  }

  const messageOf = (req: Message): CommMessage => ({
    data: record(req.content.data),
    metadata: record(req.metadata),
    buffers: req.buffers ?? [],
  });

  function safely(run: () => void) {
    try {
      run();
    } catch (e) {
      host.reportError(e);
    }
  }

  return {
    open(target, data = {}, options = {}) {
      const entry = make(randomUUID().replace(/-/g, ""), target);
      send("comm_open", { comm_id: entry.comm.id, target_name: target, data }, options);
      return entry.comm;
    },

    registerTarget(target, handler) {
      targets.set(target, handler);
      return () => {
        if (targets.get(target) === handler) targets.delete(target);
      };
    },

    receive(req) {
      const id = String(req.content.comm_id ?? "");
      const m = messageOf(req);
      switch (req.header.msg_type) {
        case "comm_open": {
          const handler = targets.get(String(req.content.target_name ?? ""));
          if (!id || open.has(id)) return;
          if (!handler) {
            // Nobody here handles that target: the frontend is told the comm is closed.
            host.publish(req, "comm_close", { comm_id: id, data: {} });
            return;
          }
          const entry = make(id, String(req.content.target_name));
          safely(() => handler(entry.comm, m));
          return;
        }
        case "comm_msg": {
          const entry = open.get(id);
          for (const h of entry?.onMessage ?? []) safely(() => h(m));
          return;
        }
        case "comm_close": {
          const entry = open.get(id);
          if (!entry) return;
          entry.markClosed();
          for (const h of entry.onClose) safely(() => h(m));
        }
      }
    },

    info(target) {
      const comms: Record<string, { target_name: string }> = {};
      for (const [id, { comm }] of open)
        if (!target || comm.target === target) comms[id] = { target_name: comm.target };
      return comms;
    },

    closeAll() {
      for (const { comm } of [...open.values()]) comm.close();
    },
  };
}
