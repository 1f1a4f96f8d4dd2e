// Cell tags, with nbval's names, read in one place: the runner (which cells run, which may fail),
// the replay (what is compared) and the tests all ask here.
import type { Cell } from "./nbformat";

/** Outputs are not compared; the replay still checks their shape. */
export const IGNORE_OUTPUT_TAG = "nbval-ignore-output";
/** Compared: the default here, meaningful under `pytest --nbval-lax`. */
export const CHECK_OUTPUT_TAG = "nbval-check-output";
/** The cell is not executed. */
export const SKIP_TAG = "nbval-skip";
/** The cell is expected to fail. */
export const RAISES_TAG = "raises-exception";

/** A cell's tags; a `tags` that is not a list (a hand-edited notebook) counts as none. */
export const tagsOf = (cell: Pick<Cell, "metadata">): string[] =>
  Array.isArray(cell.metadata.tags) ? cell.metadata.tags : [];

export const hasTag = (cell: Pick<Cell, "metadata">, tag: string): boolean => tagsOf(cell).includes(tag);
