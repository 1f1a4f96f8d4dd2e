// Executes a notebook headless: a fresh kernel per notebook, cwd = the notebook's folder.
import { dirname, resolve } from "node:path";
import { KernelClient, KernelDiedError } from "./client";
import { readNotebook, type Cell, type Notebook, type Output } from "./nbformat";
import { isSkipOutput } from "./runtime";

const WIDGET_STATE_MIME = "application/vnd.jupyter.widget-state+json";
import { hasTag, RAISES_TAG, SKIP_TAG } from "./tags";

export interface RunOptions {
  /** Per-cell timeout; the cell is interrupted when it passes. */
  timeoutSeconds?: number;
  /** Re-run safety, as Jupyter's own client checks it: execute every cell twice in a row, then the
   *  whole notebook once more in the same kernel (a learner running it again from the top). The
   *  last run's outputs are kept. */
  rerun?: boolean;
  onCell?: (event: CellEvent) => void;
}

export interface CellEvent {
  index: number; // 1-based among code cells
  total: number;
  cell: Cell;
  phase: "start" | "done";
  seconds?: number;
  /** 1, or 2 for the whole notebook run again (rerun). */
  pass: 1 | 2;
}

export interface CellFailure {
  cellNumber: number; // 1-based among code cells
  cellIndex: number; // index in nb.cells
  source: string;
  ename: string;
  evalue: string;
  traceback: string[];
  timedOut: boolean;
  /** 1, or 2 when the cell failed as the whole notebook ran again in the same kernel (rerun). */
  pass: 1 | 2;
}

export interface RunResult {
  path: string;
  notebook: Notebook;
  codeCells: number;
  executed: number;
  skipped: number;
  /** Ids of the cells that ran; the others still hold their stored outputs. */
  executedIds: Set<string>;
  failure: CellFailure | null;
  seconds: number;
}

/** The kernels running notebooks now, so that stopAll can end them when the runner is stopped. */
const running = new Set<KernelClient>();
let stopping = false;

/** Stops every running notebook: its cell is interrupted, then its kernel shuts down (closing what
 *  cells opened); runNotebook then returns with a "Stopped" failure, and no new one starts. */
export async function stopAll(): Promise<void> {
  stopping = true;
  await Promise.all(
    [...running].map(async (k) => {
      await Promise.race([k.interrupt("message").catch(() => {}), new Promise((r) => setTimeout(r, 1000))]);
      await k.shutdown(2000);
    }),
  );
}

/** Why a kernel died, in the words a learner needs: running out of memory is named as such. */
function diedBecause(message: string): { ename: string; evalue: string } {
  if (stopping) return { ename: "Stopped", evalue: "the runner was stopped (SIGINT or SIGTERM)" };
  if (message.includes("ran out of memory"))
    return {
      ename: "OutOfMemory",
      evalue: "the kernel ran out of memory (Node's heap limit; a cell holds too much at once)",
    };
  return { ename: "KernelDied", evalue: message };
}

export async function runNotebook(path: string, options: RunOptions = {}): Promise<RunResult> {
  const started = Date.now();
  const nb = readNotebook(path);
  const code = nb.cells.map((c, i) => ({ c, i })).filter(({ c }) => c.cell_type === "code");
  const result: RunResult = {
    path,
    notebook: nb,
    codeCells: code.length,
    executed: 0,
    skipped: 0,
    executedIds: new Set(),
    failure: null,
    seconds: 0,
  };
  const kernel = await KernelClient.start({ cwd: dirname(resolve(path)) });
  running.add(kernel);
  const runnable = code.filter(({ c }) => !hasTag(c, SKIP_TAG) && c.source.trim());
  result.skipped = code.length - runnable.length;
  let pass: 1 | 2 = 1;
  let current = runnable[0]; // the cell running now, named if the kernel dies
  try {
    for (pass of options.rerun ? ([1, 2] as const) : ([1] as const)) {
      // With rerun, the first pass runs each cell twice in a row, the second runs the whole again.
      const times = options.rerun && pass === 1 ? 2 : 1;
      for (current of runnable) {
        const { c: cell, i } = current;
        const n = code.indexOf(current);
        options.onCell?.({ index: n + 1, total: code.length, cell, phase: "start", pass });
        const t0 = Date.now();
        // A cell the stop interrupted reports the stop, not its own interruption.
        const ran = stopping ? null : await runCell(kernel, cell, times, options);
        const failure = stopping ? { ...diedBecause(""), traceback: [], timedOut: false } : ran;
        if (pass === 1) {
          result.executed++;
          result.executedIds.add(cell.id);
        }
        const seconds = (Date.now() - t0) / 1000;
        options.onCell?.({ index: n + 1, total: code.length, cell, phase: "done", seconds, pass });
        if (failure) {
          result.failure = { cellNumber: n + 1, cellIndex: i, source: cell.source, ...failure, pass };
          break;
        }
      }
      if (result.failure) break;
    }
    // Widgets the cells made: their state goes into the notebook, as Jupyter's "save widget state".
    const widgets = result.failure || stopping ? null : await kernel.widgetState();
    if (widgets) nb.metadata.widgets = { [WIDGET_STATE_MIME]: widgets };
    else delete nb.metadata.widgets;
  } catch (e) {
    if (!(e instanceof KernelDiedError)) throw e;
    result.failure = {
      cellNumber: current ? code.indexOf(current) + 1 : 1,
      cellIndex: current?.i ?? -1,
      source: current?.c.source ?? "",
      ...diedBecause(e.message),
      traceback: [],
      timedOut: false,
      pass,
    };
  } finally {
    await kernel.shutdown();
    running.delete(kernel);
  }
  result.seconds = (Date.now() - started) / 1000;
  return result;
}

type Failure = Omit<CellFailure, "cellNumber" | "cellIndex" | "source" | "pass">;

/** Executes the cell `times` times in a row; the last run's outputs are kept. */
async function runCell(kernel: KernelClient, cell: Cell, times: number, options: RunOptions): Promise<Failure | null> {
  for (let r = 0; r < times; r++) {
    const ex = await kernel.execute(cell.source, { timeoutMs: (options.timeoutSeconds ?? 120) * 1000 });
    cell.outputs = ex.outputs;
    cell.execution_count = ex.reply.execution_count ?? null;
    if (ex.timedOut) {
      return {
        ename: "Timeout",
        evalue: `cell did not finish within ${options.timeoutSeconds ?? 120} s and was interrupted`,
        traceback: [],
        timedOut: true,
      };
    }
    const expected = hasTag(cell, RAISES_TAG);
    if (ex.reply.status === "error" && !expected) {
      return { ename: ex.reply.ename, evalue: ex.reply.evalue, traceback: ex.reply.traceback ?? [], timedOut: false };
    }
    // A documented skip (kernel/runtime.ts) raised nothing because it never reached the failing step.
    if (expected && ex.reply.status !== "error" && !isSkipOutput(ex.outputs)) {
      return {
        ename: "MissingException",
        evalue: `cell is tagged ${RAISES_TAG} but raised nothing`,
        traceback: [],
        timedOut: false,
      };
    }
  }
  return null;
}

/** Outputs of every code cell, keyed by cell id, for comparison with the stored ones. */
export function outputsById(nb: Notebook): Map<string, Output[]> {
  return new Map(nb.cells.filter((c) => c.cell_type === "code").map((c) => [c.id, c.outputs ?? []]));
}
