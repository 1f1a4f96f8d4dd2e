// iopub messages to nbformat outputs (kernel/outputs.ts), as the clients collect them.
import { describe, expect, it } from "vitest";
import { cellOutputs, type Displays } from "../../kernel/outputs";
import { newHeader, type Message } from "../../kernel/protocol";

const iopub = (msg_type: string, content: Record<string, unknown>): Message => ({
  identities: [],
  header: newHeader(msg_type, "s"),
  parent_header: {},
  metadata: {},
  content,
  buffers: [],
});
const out = (name: string, text: string) => iopub("stream", { name, text });

describe("cellOutputs", () => {
  it("appends a stream to the stream of the same name just before it, and only to that one", () => {
    const cell = cellOutputs(new Map());
    for (const m of [out("stdout", "a"), out("stdout", "b"), out("stderr", "c"), out("stdout", "d")]) cell.add(m);
    expect(cell.outputs).toEqual([
      { output_type: "stream", name: "stdout", text: "ab" },
      { output_type: "stream", name: "stderr", text: "c" },
      { output_type: "stream", name: "stdout", text: "d" },
    ]);
  });

  it("ignores status and execute_input, keeps results and errors", () => {
    const cell = cellOutputs(new Map());
    cell.add(iopub("status", { execution_state: "busy" }));
    cell.add(iopub("execute_input", { code: "1", execution_count: 1 }));
    cell.add(iopub("execute_result", { execution_count: 1, data: { "text/plain": "1" } }));
    cell.add(iopub("error", { ename: "E", evalue: "v", traceback: ["E: v"] }));
    expect(cell.outputs).toEqual([
      { output_type: "execute_result", execution_count: 1, data: { "text/plain": "1" }, metadata: {} },
      { output_type: "error", ename: "E", evalue: "v", traceback: ["E: v"] },
    ]);
  });

  it("clear_output clears now, or with wait at the next output", () => {
    const now = cellOutputs(new Map());
    now.add(out("stdout", "old"));
    now.add(iopub("clear_output", { wait: false }));
    expect(now.outputs).toEqual([]);
    const later = cellOutputs(new Map());
    later.add(out("stdout", "old"));
    later.add(iopub("clear_output", { wait: true }));
    expect(later.outputs).toHaveLength(1);
    later.add(out("stdout", "new"));
    expect(later.outputs).toEqual([{ output_type: "stream", name: "stdout", text: "new" }]);
  });

  it("update_display_data rewrites the outputs shown under its id, also from a later cell", () => {
    const displays: Displays = new Map();
    const first = cellOutputs(displays);
    first.add(iopub("display_data", { data: { "text/plain": "v1" }, metadata: {}, transient: { display_id: "d" } }));
    const second = cellOutputs(displays);
    second.add(iopub("update_display_data", { data: { "text/plain": "v2" }, transient: { display_id: "d" } }));
    expect(first.outputs).toEqual([{ output_type: "display_data", data: { "text/plain": "v2" }, metadata: {} }]);
    expect(second.outputs).toEqual([]);
  });
});
