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

/** A display that is replaced in place while a cell runs (a live progress line). Jupyter
 *  frontends, nbclient and our runner apply each update_display_data, so the stored notebook
 *  holds the display's last state; nbval ignores updates and compares its first. A live display
 *  therefore opens with its caption and `end()` returns it to that caption, so that both see the
 *  same output, and whatever the measurement produced (a chart, a table) is shown by `end` as an
 *  output of its own, compared like any other. */
export interface LiveDisplay {
  readonly id: string;
  /** Replaces what the display shows (progress); the caption comes back at `end()`. */
  update(value: unknown): void;
  /** Shows the caption again, then `result` (if given) as its own output below it. */
  end(result?: unknown): void;
}

export function liveDisplay(caption: string): LiveDisplay {
  const id = randomUUID();
  show(bundleOf(caption), { displayId: id });
  return {
    id,
    update: (value) => show(bundleOf(value), { displayId: id, update: true }),
    end: (result) => {
      show(bundleOf(caption), { displayId: id, update: true });
      if (result !== undefined) display(result);
    },
  };
}
