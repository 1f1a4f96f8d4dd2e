// Checked claims: a notebook states what a learner should believe, as one readable line, and the
// kernel verifies it. `claim("b answered every probe", answered === sent)` is silent when the
// claim holds, the way nbdev's test_eq is, and fails the cell with a ClaimFailed naming the claim
// (and the evidence, if given) when it does not. A claim is also a TypeScript assertion: after
// `claim("the reply came", reply !== null)`, `reply` is known not to be null, so a notebook needs
// no `!` or `as` to use it. `claimEqual` compares two values deeply and shows both on failure.
import { inspect, isDeepStrictEqual } from "node:util";

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
