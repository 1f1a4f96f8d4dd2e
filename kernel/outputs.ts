// From iopub messages to nbformat outputs, the way a Jupyter frontend collects a cell's outputs:
// a stream appends to the output before it when that is a stream of the same name (JupyterLab, and
// nbconvert's coalesce_streams, do the same), clear_output clears now or, with `wait`, at the next
// output, and update_display_data rewrites every output shown under its display id, in any cell of
// the session. The zmq client (kernel/client.ts) and the in-process test client both use this.
// (The replay merges streams differently, per name as nbval does: kernel/replay/compare.ts.)
import type { Output } from "./nbformat";
import type { Message } from "./protocol";

type DisplayOutput = Extract<Output, { output_type: "display_data" }>;

/** Outputs by display id, shared by the executions of one session. */
export type Displays = Map<string, DisplayOutput[]>;

export interface CellOutputs {
  /** The cell's outputs so far (the same array throughout, updated in place). */
  readonly outputs: Output[];
  /** Takes one iopub message of the cell; messages that are not outputs (status, execute_input) are ignored. */
  add(msg: Message): void;
}

/** Adds an output the way Jupyter frontends do: a stream continues a stream of the same name before it. */
export function appendOutput(outputs: Output[], o: Output): void {
  const last = outputs[outputs.length - 1];
  if (o.output_type === "stream" && last?.output_type === "stream" && last.name === o.name) last.text += o.text;
  else outputs.push(o);
}

/** Collects one cell's outputs; `displays` is the session's, so later cells can update them. */
export function cellOutputs(displays: Displays): CellOutputs {
  const outputs: Output[] = [];
  let clearPending = false;
  const add = (o: Output) => {
    if (clearPending) {
      outputs.length = 0;
      clearPending = false;
    }
    appendOutput(outputs, o);
  };
  return {
    outputs,
    add(msg) {
      const c = msg.content;
      switch (msg.header.msg_type) {
        case "stream":
          return add({ output_type: "stream", name: c.name, text: c.text });
        case "display_data": {
          const out: DisplayOutput = { output_type: "display_data", data: c.data, metadata: c.metadata ?? {} };
          add(out);
          const id = c.transient?.display_id;
          if (id) displays.set(id, [...(displays.get(id) ?? []), out]);
          return;
        }
        case "update_display_data":
          for (const out of displays.get(c.transient?.display_id) ?? []) {
            out.data = c.data;
            out.metadata = c.metadata ?? {};
          }
          return;
        case "execute_result":
          return add({
            output_type: "execute_result",
            execution_count: c.execution_count,
            data: c.data,
            metadata: c.metadata ?? {},
          });
        case "error":
          return add({ output_type: "error", ename: c.ename, evalue: c.evalue, traceback: c.traceback });
        case "clear_output":
          if (c.wait) clearPending = true;
          else outputs.length = 0;
          return;
      }
    },
  };
}
