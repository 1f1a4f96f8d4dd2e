// Rich output from a cell: mime bundles, updatable displays, clear_output.
// Outside the kernel (plain Node, tests) the text/plain part is printed instead.
import { randomUUID } from "node:crypto";
import { bundleOf, DISPLAY_SINK, normalizeBundle, type DisplaySink, type MimeBundle } from "../kernel/mime";

export { JUPYTER_DISPLAY, type MimeBundle } from "../kernel/mime";

const sink = (): DisplaySink | undefined => (globalThis as any)[DISPLAY_SINK];

function emit(bundle: MimeBundle, options: { displayId?: string; update?: boolean } = {}) {
  const s = sink();
  if (s) s.display(bundle, options);
  else console.log(String(bundle["text/plain"] ?? JSON.stringify(bundle)));
}

/** Shows a value: its Jupyter.display bundle if it has one, else its text form. */
export function display(value: unknown): void {
  emit(bundleOf(value));
}

/** Shows a mime bundle as given (JSON mime types as objects). */
export function displayBundle(bundle: MimeBundle): void {
  emit(normalizeBundle(bundle));
}

/** A display that can be replaced in place later (a live progress line, a growing chart). */
export interface LiveDisplay {
  readonly id: string;
  update(value: unknown): void;
}

export function liveDisplay(initial: unknown): LiveDisplay {
  const id = randomUUID();
  emit(bundleOf(initial), { displayId: id });
  return { id, update: (value) => emit(bundleOf(value), { displayId: id, update: true }) };
}

/** Clears the cell's output; with `wait`, only when the next output arrives (no flicker). */
export function clearOutput(wait = false): void {
  sink()?.clearOutput(wait);
}
