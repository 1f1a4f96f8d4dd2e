// What the kernel's protocol tests check, the same for the kernel in the test's process
// (test/kernel/kernel.test.ts) and the kernel process over zeromq (test/kernel/process.test.ts).
import { expect } from "vitest";
import type { Execution } from "../../kernel/client";
import type { Output } from "../../kernel/nbformat";
import type { Message } from "../../kernel/protocol";

/** Rejects with `what` if `p` has not settled within `ms` (a guard against hanging, not a timing check). */
export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>(
      (_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms)),
    ),
  ]);
}

export const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The msg_id of the request a message answers ("" for none). */
export const parentId = (m: Message): string => ("msg_id" in m.parent_header ? m.parent_header.msg_id : "");

/** busy first, idle last, exactly one of each, every message parented by the request. */
export function expectBracketed(traffic: Message[], id: string) {
  expect(traffic.length).toBeGreaterThanOrEqual(2);
  for (const m of traffic) expect(parentId(m)).toBe(id);
  const states = traffic.filter((m) => m.header.msg_type === "status").map((m) => m.content.execution_state);
  expect(states).toEqual(["busy", "idle"]);
  const [first, last] = [traffic[0], traffic[traffic.length - 1]];
  expect(first.header.msg_type).toBe("status");
  expect(first.content.execution_state).toBe("busy");
  expect(last.header.msg_type).toBe("status");
  expect(last.content.execution_state).toBe("idle");
}

type ErrorOutput = Extract<Output, { output_type: "error" }>;

export const plain = (e: Execution) =>
  e.outputs.flatMap((o) => (o.output_type === "execute_result" ? [o.data["text/plain"]] : []));
export const streams = (e: Execution) =>
  e.outputs.flatMap((o) => (o.output_type === "stream" ? [o.text] : [])).join("");
export const errors = (e: Execution) => e.outputs.filter((o): o is ErrorOutput => o.output_type === "error");

/** Either client: both execute code and collect its outputs the same way (kernel/outputs.ts). */
export interface Executes {
  execute(code: string, options?: { stopOnError?: boolean; onIopub?: (m: Message) => void }): Promise<Execution>;
}

/** client.execute, plus the request's msg_id and the raw iopub messages it saw. */
export async function run(client: Executes, code: string, options: { stopOnError?: boolean } = {}) {
  const raw: Message[] = [];
  const result = await client.execute(code, { ...options, onIopub: (m) => raw.push(m) });
  return { ...result, raw, id: raw.length ? parentId(raw[0]) : "" };
}

/** The kernel still runs cells: `1 + 1` gives 2. */
export async function expectWorks(client: Executes) {
  const r = await client.execute("1 + 1");
  expect(r.reply.status).toBe("ok");
  expect(r.outputs).toEqual([
    {
      output_type: "execute_result",
      execution_count: r.reply.execution_count,
      data: { "text/plain": "2" },
      metadata: {},
    },
  ]);
}
