// Rich output from a cell: mime bundles, updatable displays, clear_output, all through the cell
// runtime (kernel/runtime.ts). Outside the kernel (plain Node, tests) the text/plain part is printed.
import { randomUUID } from "node:crypto";
import { bundleOf, normalizeBundle, show } from "../../kernel/runtime";

export { clearOutput, JUPYTER_DISPLAY, type MimeBundle } from "../../kernel/runtime";

/** Shows a value: its Jupyter.display bundle if it has one, else its text form. */
export function display(value: unknown): void {
  show(bundleOf(value));
}

/** Shows a mime bundle as given (JSON mime types as objects). */
export function displayBundle(bundle: Record<string, unknown>): void {
  show(normalizeBundle(bundle));
}

/** A display that can be replaced in place later (a live progress line, a growing chart). */
export interface LiveDisplay {
  readonly id: string;
  update(value: unknown): void;
}

export function liveDisplay(initial: unknown): LiveDisplay {
  const id = randomUUID();
  show(bundleOf(initial), { displayId: id });
  return { id, update: (value) => show(bundleOf(value), { displayId: id, update: true }) };
}
