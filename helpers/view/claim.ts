// Checked claims: a notebook states what a learner should believe, as one readable line, and the
// kernel verifies it. `claim("b answered every probe", answered === sent)` is silent when the
// claim holds, the way nbdev's test_eq is, and fails the cell with a ClaimFailed naming the claim
// (and the evidence, if given) when it does not. A claim is also a TypeScript assertion: after
// `claim("the reply came", reply !== null)`, `reply` is known not to be null, so a notebook needs
// no `!` or `as` to use it. `claimEqual` compares two values deeply and shows both on failure.
// `attempt` runs something that may fail and hands back what happened as data.
import { inspect, isDeepStrictEqual } from "node:util";
import { isCellSkipped } from "../../kernel/runtime";

export class ClaimFailed extends Error {
  readonly code = "ERR_CLAIM_FAILED";
  constructor(
    readonly statement: string,
    readonly evidence?: unknown,
  ) {
    super(
      evidence === undefined
        ? `this claim does not hold: ${statement}`
        : `this claim does not hold: ${statement}\n${inspect(evidence, { depth: 4, breakLength: 100 })}`,
    );
    this.name = "ClaimFailed";
  }
}

/** Fails the cell unless `condition` holds; `evidence` is shown when it does not. */
export function claim(statement: string, condition: unknown, evidence?: unknown): asserts condition {
  if (typeof statement !== "string" || !statement.trim()) throw new TypeError("a claim needs a statement");
  if (!condition) throw new ClaimFailed(statement, evidence);
}

/** Fails the cell unless `actual` deeply equals `expected` (Node's isDeepStrictEqual). */
export function claimEqual<T>(statement: string, actual: unknown, expected: T): asserts actual is T {
  if (!isDeepStrictEqual(actual, expected)) throw new ClaimFailed(statement, { actual, expected });
}

/** What went wrong, as data: an error's name, its code if it has one, and its message. */
export interface Failure {
  name: string;
  code?: string;
  message: string;
}

/** Any thrown value as a Failure (so a notebook reads `failure.code`, with no cast). */
export function failureOf(e: unknown): Failure {
  if (!(e instanceof Error)) return { name: typeof e, message: String(e) };
  const code = Reflect.get(e, "code");
  return { name: e.name, ...(typeof code === "string" ? { code } : {}), message: e.message };
}

export type Attempt<T> = { ok: true; value: T } | ({ ok: false } & Failure);

/** Runs `fn` and reports what happened instead of throwing: `{ ok: true, value }`, or
 *  `{ ok: false, name, code, message }`. For experiments where a refusal is the lesson. A
 *  documented skip (the machine lacks a lab or a peer) is not an outcome: it still skips the cell.
 *  In a notebook, test `r.ok === false` (tslab checks cells without strict null checks, where
 *  `!r.ok` does not narrow). */
export function attempt<T>(fn: () => Promise<T>): Promise<Attempt<T>>;
export function attempt<T>(fn: () => T): Attempt<T>;
export function attempt<T>(fn: () => T | Promise<T>): Attempt<T> | Promise<Attempt<T>> {
  try {
    const value = fn();
    if (value instanceof Promise) {
      return value.then(
        (v: T): Attempt<T> => ({ ok: true, value: v }),
        (e: unknown): Attempt<T> => {
          if (isCellSkipped(e)) throw e;
          return { ok: false, ...failureOf(e) };
        },
      );
    }
    return { ok: true, value };
  } catch (e) {
    if (isCellSkipped(e)) throw e;
    return { ok: false, ...failureOf(e) };
  }
}
