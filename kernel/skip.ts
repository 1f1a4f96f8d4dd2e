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

/** True when a cell's outputs are exactly one skip line. */
export function isSkipOutput(outputs: { output_type: string; name?: string; text?: string | string[] }[]): boolean {
  if (outputs.length !== 1 || outputs[0].output_type !== "stream" || outputs[0].name !== "stdout") return false;
  const text = [outputs[0].text ?? ""].flat().join("");
  return text.startsWith(SKIP_PREFIX) && text.indexOf("\n") === text.length - 1;
}
