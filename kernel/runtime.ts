// The cell runtime: the whole contract between the kernel and the code a cell runs (and the
// helpers it imports). What a cell may ask of the kernel is here and nowhere else:
//   - rich output: `show` a mime bundle (optionally under a display id, to update it later) and
//     `clearOutput`; outside the kernel (a script, a test) the text/plain part is printed;
//   - one disposer registry: `onShutdown` registers what the kernel closes at shutdown, and
//     `closeEverything` runs it all now (a notebook's last cell);
//   - the running cell's AbortSignal (`cellSignal`), aborted when the user interrupts the cell;
//   - documented skips: a `CellSkipped` ends a cell with one `skipped: …` line instead of an error;
//   - `stopProcess`: the one way a child process is stopped (SIGTERM, a grace period, SIGKILL).
// The kernel installs its side once (`installFrontend`, `startCell`), the way Deno builds
// `Deno.jupyter` in one place. Its state lives in one global slot, so a helper loaded through a
// second module instance still reaches the same kernel.
import type { ChildProcess } from "node:child_process";
import { inspect } from "node:util";

// ---- mime bundles -------------------------------------------------------------------------------

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

interface Displayable {
  [JUPYTER_DISPLAY](): MimeBundle;
}
const isDisplayable = (v: unknown): v is Displayable =>
  (typeof v === "object" || typeof v === "function") &&
  v !== null &&
  typeof (v as Partial<Displayable>)[JUPYTER_DISPLAY] === "function";

/** A value as a bundle: its own Jupyter.display bundle if it has one, else text/plain. */
export function bundleOf(value: unknown): MimeBundle {
  if (isDisplayable(value)) return normalizeBundle(value[JUPYTER_DISPLAY]());
  return { "text/plain": plainText(value) };
}

// ---- documented skips ---------------------------------------------------------------------------

/** Every skip line starts with this, so the replay can tell a skip from a real output. */
export const SKIP_PREFIX = "skipped: ";
const SKIP = Symbol.for("wirebook.cellSkipped");

/** Thrown by a helper when the machine lacks what the cell needs (a lab, a peer program): the
 *  kernel prints its one line on stdout and ends the cell without an error. */
export class CellSkipped extends Error {
  readonly [SKIP] = true;
  constructor(reason: string) {
    super(reason);
    this.name = "CellSkipped";
  }
}

/** By symbol, not instanceof: a skip thrown by a second copy of this module still counts. */
export const isCellSkipped = (e: unknown): e is CellSkipped =>
  typeof e === "object" && e !== null && (e as { [SKIP]?: unknown })[SKIP] === true;

/** The one stdout line a skipped cell prints. */
export const skipLine = (e: CellSkipped): string => `${SKIP_PREFIX}${e.message}\n`;

/** True when a cell's outputs end in a skip: the last is stdout whose last line is the one skip
 *  line. What the cell printed before it reached the step that skipped is not compared. */
export function isSkipOutput(outputs: { output_type: string; name?: string; text?: string | string[] }[]): boolean {
  const last = outputs[outputs.length - 1];
  if (!last || last.output_type !== "stream" || last.name !== "stdout") return false;
  const lines = [last.text ?? ""]
    .flat()
    .join("")
    .split(/(?<=\n)/);
  const skips = lines.filter((l) => l.startsWith(SKIP_PREFIX)).length;
  return lines[lines.length - 1].startsWith(SKIP_PREFIX) && skips === 1;
}

// ---- the kernel's side, in one global slot ------------------------------------------------------

export interface ShowOptions {
  /** Names the display so a later `update` replaces it in place. */
  displayId?: string;
  update?: boolean;
  metadata?: object;
}

/** Where rich output goes: the kernel's iopub channel. */
export interface Frontend {
  show(bundle: MimeBundle, options: ShowOptions): void;
  clearOutput(wait: boolean): void;
  comms: Comms;
}

/** What arrives on a comm (or opened it): Jupyter's data, metadata and binary buffers. */
export interface CommMessage {
  data: Record<string, unknown>;
  metadata: Record<string, unknown>;
  buffers: Buffer[];
}

export interface CommSendOptions {
  metadata?: Record<string, unknown>;
  buffers?: Buffer[];
}

/** One end of a Jupyter comm: a two-way channel between the kernel and a frontend (widgets use it). */
export interface Comm {
  readonly id: string;
  readonly target: string;
  readonly closed: boolean;
  send(data: Record<string, unknown>, options?: CommSendOptions): void;
  /** Closes it from the kernel's side (the frontend is told); later sends are ignored. */
  close(data?: Record<string, unknown>): void;
  onMessage(handler: (m: CommMessage) => void): void;
  onClose(handler: (m: CommMessage) => void): void;
}

/** The kernel's comms: opened from here, or by a frontend on a target registered here. */
export interface Comms {
  open(target: string, data?: Record<string, unknown>, options?: CommSendOptions): Comm;
  /** A frontend that opens a comm on `target` gets it handled here; returns an unregister function. */
  registerTarget(target: string, handler: (comm: Comm, opened: CommMessage) => void): () => void;
}

type Disposer = () => unknown;

/** What a compiled cell is called with: tslab's exports object and a require for the cell. */
export interface CellScope {
  exports: Record<string, unknown>;
  require: NodeJS.Require;
}

interface RuntimeState {
  frontend?: Frontend;
  disposers: Set<Disposer>;
  signal?: AbortSignal;
  scope?: CellScope;
}

const SLOT = Symbol.for("wirebook.runtime");
const state: RuntimeState = ((globalThis as { [SLOT]?: RuntimeState })[SLOT] ??= { disposers: new Set() });

/** The kernel connects rich output to its frontend; nothing else calls this. */
export function installFrontend(frontend: Frontend): void {
  state.frontend = frontend;
}

/** The kernel starts a cell: a fresh AbortSignal that `cellSignal()` returns until the next. */
export function startCell(): AbortController {
  const controller = new AbortController();
  state.signal = controller.signal;
  return controller;
}

/** The kernel sets the scope its compiled cells run in; they reach it through `CELL_SCOPE`. */
export function setCellScope(scope: CellScope): void {
  state.scope = scope;
}

/** A JavaScript expression, for the kernel's cell wrapper, that evaluates to the cell scope. */
export const CELL_SCOPE = 'globalThis[Symbol.for("wirebook.runtime")].scope';

/** True inside the kernel (a frontend is installed). */
export const inKernel = () => state.frontend !== undefined;

// ---- what cells and helpers use -----------------------------------------------------------------

/** Shows a mime bundle (already normalized); outside the kernel prints its text/plain part. */
export function show(bundle: MimeBundle, options: ShowOptions = {}): void {
  if (state.frontend) state.frontend.show(bundle, options);
  else console.log(String(bundle["text/plain"] ?? JSON.stringify(bundle)));
}

/** Opens a comm to the frontend on `target`; outside the kernel, one that goes nowhere. */
export function openComm(target: string, data: Record<string, unknown> = {}, options: CommSendOptions = {}): Comm {
  return state.frontend ? state.frontend.comms.open(target, data, options) : detachedComm(target);
}

/** Handles comms a frontend opens on `target` (outside the kernel nothing ever arrives). */
export function registerCommTarget(target: string, handler: (comm: Comm, opened: CommMessage) => void): () => void {
  return state.frontend ? state.frontend.comms.registerTarget(target, handler) : () => {};
}

function detachedComm(target: string): Comm {
  let closed = false;
  return {
    id: `detached-${target}`,
    target,
    get closed() {
      return closed;
    },
    send() {},
    close() {
      closed = true;
    },
    onMessage() {},
    onClose() {},
  };
}

/** Clears the cell's output; with `wait`, only when the next output arrives (no flicker). */
export function clearOutput(wait = false): void {
  state.frontend?.clearOutput(wait);
}

/** The signal of the cell running now, aborted if the user interrupts it; undefined outside the
 *  kernel. A helper that builds something in the background (a lab) stops and removes it. */
export const cellSignal = (): AbortSignal | undefined => state.signal;

/** Registers a disposer the kernel runs at shutdown; returns a function that runs it now (once)
 *  and forgets it. */
export function onShutdown(dispose: Disposer): () => Promise<void> {
  state.disposers.add(dispose);
  return async () => {
    state.disposers.delete(dispose);
    await dispose();
  };
}

/** How many disposers are registered (what shutdown would close). */
export const openResources = (): number => state.disposers.size;

/** Runs every registered disposer now: the last cell of a notebook calls this. All of them run;
 *  if any failed, the first failure is thrown afterwards. Returns how many ran. */
export async function closeEverything(): Promise<number> {
  const failures = await disposeAll(Infinity);
  if (failures.errors.length) throw failures.errors[0];
  return failures.ran;
}

/** The kernel at shutdown: every disposer, for at most `deadlineMs`; failures are logged. */
export async function disposeForShutdown(deadlineMs: number): Promise<void> {
  const { errors } = await disposeAll(deadlineMs);
  for (const e of errors) process.stderr.write(`[wirebook] cleanup failed: ${e instanceof Error ? e.message : e}\n`);
}

async function disposeAll(deadlineMs: number): Promise<{ ran: number; errors: unknown[] }> {
  const all = [...state.disposers];
  state.disposers.clear();
  const errors: unknown[] = [];
  const done = Promise.all(
    all.map((d) =>
      Promise.resolve()
        .then(d)
        .catch((e: unknown) => void errors.push(e)),
    ),
  );
  if (deadlineMs === Infinity) await done;
  else await Promise.race([done, new Promise((r) => setTimeout(r, deadlineMs).unref())]);
  return { ran: all.length, errors };
}

// ---- processes ----------------------------------------------------------------------------------

/** Stops a child process: SIGTERM, then SIGKILL if it is still there after `graceMs`; resolves
 *  once it has exited (and so is reaped, never left a zombie). Safe on a process already gone. */
export function stopProcess(child: ChildProcess, graceMs = 1500): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return Promise.resolve();
  return new Promise((resolve) => {
    const killer = setTimeout(() => child.kill("SIGKILL"), graceMs);
    // A process stuck in the kernel (state D) may not die even then: stop waiting for it.
    const giveUp = setTimeout(resolve, 2 * graceMs + 1000);
    child.once("exit", () => {
      clearTimeout(killer);
      clearTimeout(giveUp);
      resolve();
    });
    child.kill("SIGTERM");
  });
}
