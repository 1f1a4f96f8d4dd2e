// Mime bundles: what a value looks like in a notebook.
import { inspect } from "node:util";

export type MimeBundle = Record<string, unknown>;

/** Deno's convention: an object with this method displays as the bundle it returns. */
export const JUPYTER_DISPLAY = Symbol.for("Jupyter.display");

export const isJsonMime = (mime: string) => mime === "application/json" || mime.endsWith("+json");

/** Checks a bundle and makes JSON mime types carry objects, never JSON text. */
export function normalizeBundle(bundle: MimeBundle): MimeBundle {
  if (bundle === null || typeof bundle !== "object" || Array.isArray(bundle)) {
    throw new TypeError("a mime bundle must be an object keyed by mime type");
  }
  const out: MimeBundle = {};
  for (const [mime, value] of Object.entries(bundle)) {
    if (!/^[\w.+-]+\/[\w.+-]+$/.test(mime)) throw new TypeError(`"${mime}" is not a mime type`);
    if (value === undefined) continue;
    if (isJsonMime(mime)) {
      out[mime] = typeof value === "string" ? JSON.parse(value) : JSON.parse(JSON.stringify(value));
    } else if (typeof value === "string") {
      out[mime] = value;
    } else if (value instanceof Uint8Array) {
      out[mime] = Buffer.from(value).toString("base64"); // binary mime data travels as base64
    } else {
      throw new TypeError(`${mime} data must be a string or bytes, got ${typeof value}`);
    }
  }
  return out;
}

/** The plain-text form Jupyter shows for a value: Node's inspect without colours. */
export function plainText(value: unknown): string {
  return typeof value === "string" ? inspect(value) : inspect(value, { depth: 4, breakLength: 100 });
}

/** A value as a bundle: its own Jupyter.display bundle if it has one, else text/plain. */
export function bundleOf(value: unknown): MimeBundle {
  const method = (value as any)?.[JUPYTER_DISPLAY];
  if (typeof method === "function") return normalizeBundle(method.call(value));
  return { "text/plain": plainText(value) };
}

/** What the kernel exposes to helpers (helpers/display.ts) through a global symbol. */
export interface DisplaySink {
  display(bundle: MimeBundle, options?: { displayId?: string; update?: boolean; metadata?: object }): void;
  clearOutput(wait: boolean): void;
}
export const DISPLAY_SINK = Symbol.for("wirebook.display");
