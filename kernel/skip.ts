// A documented skip: a cell that needs something this machine cannot give (root or user
// namespaces, say) throws a CellSkipped. The kernel prints its one line on stdout and ends the cell
// without an error, so the notebook goes on; the replay counts such a cell as skipped, not passed,
// and only where the skip is expected (see test/replay.test.ts).

/** Every skip line starts with this, so the replay can tell a skip from a real output. */
export const SKIP_PREFIX = "skipped: ";

const SKIP = Symbol.for("wirebook.cellSkipped");

export class CellSkipped extends Error {
  readonly [SKIP] = true;
  constructor(reason: string) {
    super(reason);
    this.name = "CellSkipped";
  }
}

export function isCellSkipped(e: unknown): e is CellSkipped {
  // By symbol, not instanceof: helpers loaded through another module instance still match.
  return !!e && typeof e === "object" && (e as any)[SKIP] === true;
}

/** The one stdout line a skipped cell prints. */
export function skipLine(e: CellSkipped): string {
  return `${SKIP_PREFIX}${e.message}\n`;
}

/** True when a cell ends in a skip: its last output is stdout whose last line is the one skip line.
 *  What the cell printed before it reached the lab step is not compared. */
export function isSkipOutput(outputs: { output_type: string; name?: string; text?: string | string[] }[]): boolean {
  const last = outputs[outputs.length - 1];
  if (!last || last.output_type !== "stream" || last.name !== "stdout") return false;
  const lines = [last.text ?? ""]
    .flat()
    .join("")
    .split(/(?<=\n)/);
  return lines[lines.length - 1].startsWith(SKIP_PREFIX) && lines.filter((l) => l.startsWith(SKIP_PREFIX)).length === 1;
}

// What a skipped cell declared never got its value, yet later cells may use it (`own.transcript`).
// Such names are bound to a stand-in that skips, for the same reason, any cell that touches it:
// a cell that depends on a skipped one is skipped too, instead of failing with a TypeError.
const STAND_INS = new WeakSet<object>();

export function skippedValue(skip: CellSkipped): object {
  const again = (): never => {
    throw new CellSkipped(skip.message);
  };
  const standIn = new Proxy(function skipped() {}, {
    get: again,
    set: again,
    has: again,
    apply: again,
    construct: again,
    ownKeys: again,
  });
  STAND_INS.add(standIn);
  return standIn;
}

export function isSkippedValue(v: unknown): boolean {
  return (typeof v === "function" || (typeof v === "object" && v !== null)) && STAND_INS.has(v as object);
}
