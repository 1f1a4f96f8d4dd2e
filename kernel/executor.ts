// Runs cells: tslab's converter type-checks and compiles them, we run the result and turn every
// failure (type error, exception, rejected await, interrupt) into Jupyter's ename/evalue/traceback.
import Module from "node:module";
import { join } from "node:path";
import vm from "node:vm";
import { inspect } from "node:util";
import * as ts from "@tslab/typescript-for-tslab";
import { createConverter, isCompleteCode, type Converter } from "tslab/dist/converter";
import { printQuickInfo } from "tslab/dist/inspect";
import { checkCellsAgainstHelperTypes } from "./helper-types";
import { cellLineOf, markerLength, prepareCell } from "./prepass";
import { CELL_SCOPE, CellSkipped, isCellSkipped, setCellScope, skipLine, startCell } from "./runtime";

export interface CellError {
  ename: string;
  evalue: string;
  traceback: string[];
}
export type CellOutcome = { ok: true; value: unknown; hasValue: boolean } | ({ ok: false } & CellError);

class Interrupted extends Error {
  name = "Interrupted";
  constructor() {
    super("execution was interrupted");
  }
}

const CELL_FILE = /wirebook-cell-(\d+)\.js:(\d+):(\d+)/;
// Frames of the machinery that runs a cell, not of the user's code.
const HIDDEN_FRAME = /node:internal|node:vm|\/tslab\/dist\/|^\s*at <anonymous>$/;
const KERNEL_DIR = __dirname;
/** The JS each cell label ran, so a later stack frame (a callback) still maps to its cell line. */
const executedJs = new Map<number, string>();

/** Cells get Node's global types only. Left alone, TypeScript includes every package under
 *  node_modules/@types in every program: here also jQuery, lodash, React and others that the
 *  browser test's packages bring, 3.3 of the 6.1 MB of declarations parsed before the first cell
 *  (1.9 s of start-up; 1.1 s without them). A package's own types still load when a cell imports
 *  it. tslab's converter takes no compiler options, but lists the type roots through ts.sys. */
let globalTypesNarrowed = false;
function nodeGlobalTypesOnly(): void {
  if (globalTypesNarrowed) return; // ts.sys is the process's: wrap it once, not per executor
  globalTypesNarrowed = true;
  const getDirectories = ts.sys.getDirectories.bind(ts.sys);
  ts.sys.getDirectories = (path) =>
    /[\\/]node_modules[\\/]@types$/.test(path)
      ? getDirectories(path).filter((d) => d === "node")
      : getDirectories(path);
}

export function createExecutor(cwd: string) {
  nodeGlobalTypesOnly();
  checkCellsAgainstHelperTypes();
  const converter: Converter = createConverter({});
  // Names the running cell (re)defines: if it is skipped, they get stand-ins (skippedValue, below).
  let definedByCell = new Set<string>();
  const exports = cellExports((name) => definedByCell.add(name));
  const cellRequire = Module.createRequire(join(cwd, "cell.js"));
  setCellScope({ exports, require: cellRequire });
  let prevDecl = "";
  let interruptCurrent: ((e: Error) => void) | null = null;
  let cellAbort = new AbortController();

  /** Runs one cell; `label` names it in tracebacks (the execution count). */
  async function execute(src: string, label: number): Promise<CellOutcome> {
    const marked = prepareCell(src);
    const converted = converter.convert(prevDecl, marked);
    if (converted.diagnostics.length) return typeErrors(converted.diagnostics, marked, label);
    if (!converted.output) {
      prevDecl = converted.declOutput ?? "";
      return { ok: true, value: undefined, hasValue: false };
    }
    const head = `(${converted.hasToplevelAwait ? "async " : ""}function (exports, require) {`;
    const js = `${head}\n${converted.output}\n})(${CELL_SCOPE}.exports, ${CELL_SCOPE}.require)`;
    executedJs.set(label, js);
    definedByCell = new Set();
    cellAbort = startCell();
    try {
      // breakOnSigint breaks a synchronous loop, but Node's SIGINT watchdog swallows a signal that
      // arrives as the script returns. An async cell returns as soon as it first awaits, so there
      // it would often eat the interrupt meant for the pending await: such a cell runs without it,
      // and every SIGINT reaches our listener (main.ts), which rejects the pending await.
      const ret = vm.runInThisContext(js, {
        filename: `wirebook-cell-${label}.js`,
        breakOnSigint: !converted.hasToplevelAwait,
      });
      if (converted.hasToplevelAwait) {
        const interrupted = new Promise<never>((_, reject) => (interruptCurrent = reject));
        (ret as Promise<unknown>).catch(() => {}); // after an interrupt, a late rejection is not news
        await Promise.race([ret, interrupted]);
      }
    } catch (e) {
      if (!isCellSkipped(e)) return { ok: false, ...describeError(e) };
      for (const name of definedByCell) if (exports[name] === undefined) exports[name] = skippedValue(e);
      prevDecl = converted.declOutput ?? "";
      process.stdout.write(skipLine(e));
      return { ok: true, value: undefined, hasValue: false };
    } finally {
      interruptCurrent = null;
    }
    prevDecl = converted.declOutput ?? "";
    const name = converted.lastExpressionVar;
    if (!name || !(name in exports)) return { ok: true, value: undefined, hasValue: false };
    const value = exports[name];
    delete exports[name];
    if (isSkippedValue(value)) {
      try {
        Reflect.get(value, "touch"); // throws the skip it stands for
      } catch (e) {
        if (isCellSkipped(e)) process.stdout.write(skipLine(e));
      }
      return { ok: true, value: undefined, hasValue: false };
    }
    return { ok: true, value, hasValue: value !== undefined };
  }

  /** Aborts the cell's signal (helpers stop background work) and stops a pending top-level await;
   *  a synchronous cell's loop is stopped by SIGINT (breakOnSigint). */
  function interrupt(): boolean {
    cellAbort.abort(new Interrupted());
    if (!interruptCurrent) return false;
    interruptCurrent(new Interrupted());
    return true;
  }

  function complete(src: string, cursor: number) {
    const info = converter.complete(prevDecl, src, cursor);
    return { matches: info.candidates, cursor_start: info.start, cursor_end: info.end };
  }

  function inspectAt(src: string, cursor: number): string | null {
    const info = converter.inspect(prevDecl, src, cursor);
    return info ? printQuickInfo(info) : null;
  }

  function isComplete(src: string): { status: "complete" | "incomplete"; indent?: string } {
    const r = isCompleteCode(src);
    return r.completed ? { status: "complete" } : { status: "incomplete", indent: r.indent ?? "" };
  }

  return { execute, interrupt, complete, inspect: inspectAt, isComplete, close: () => converter.close() };
}
export type Executor = ReturnType<typeof createExecutor>;

// What a skipped cell declared never got its value, yet later cells may use it (`own.transcript`).
// Such names are bound to a stand-in that skips, for the same reason, any cell that touches it:
// a cell that depends on a skipped one is skipped too, instead of failing with a TypeError.
const STAND_INS = new WeakSet<object>();

function skippedValue(skip: CellSkipped): object {
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

const isSkippedValue = (v: unknown): v is object =>
  (typeof v === "function" || (typeof v === "object" && v !== null)) && STAND_INS.has(v);

/** tslab's exports object: named imports become defineProperty calls, which must stay rewritable. */
function cellExports(onDefine: (name: string) => void): Record<string, any> {
  const store: Record<string, any> = {};
  return new Proxy(store, {
    defineProperty(_t, prop, attrs) {
      if (prop === "__esModule") return true;
      store[prop as string] = attrs.get ? attrs.get() : attrs.value;
      onDefine(prop as string);
      return true;
    },
  });
}

function typeErrors(
  diagnostics: ReturnType<Converter["convert"]>["diagnostics"],
  marked: string,
  label: number,
): CellOutcome {
  const where = (d: (typeof diagnostics)[number]) => {
    const shift = d.fileName ? 0 : markerLength(marked, d.start.line);
    const column = Math.max(1, d.start.character + 1 - shift);
    return `${d.fileName ? d.fileName + " " : ""}line ${d.start.line + 1}, column ${column}`;
  };
  const first = diagnostics[0];
  return {
    ok: false,
    ename: "TSError",
    evalue: `${first.messageText} (${where(first)})`,
    traceback: [
      `TSError: ${diagnostics.length} type error${diagnostics.length > 1 ? "s" : ""} in cell [${label}]`,
      ...diagnostics.map((d) => `  ${where(d)}: TS${d.code}: ${d.messageText}`),
    ],
  };
}

/** ename, evalue and a traceback whose cell frames name the cell's own line numbers. */
export function describeError(e: unknown): CellError {
  if (!(e instanceof Error) && !(e && typeof e === "object" && "stack" in e)) {
    return { ename: "Uncaught", evalue: inspect(e), traceback: [`Uncaught ${inspect(e)}`] };
  }
  const err = e as Error & { code?: string };
  if (err.code === "ERR_SCRIPT_EXECUTION_INTERRUPTED" || err instanceof Interrupted) {
    return {
      ename: "Interrupted",
      evalue: "execution was interrupted",
      traceback: ["Interrupted: execution was interrupted"],
    };
  }
  const ename = err.name || err.constructor?.name || "Error";
  const evalue = err.message ?? "";
  const frames = String(err.stack ?? "")
    .split("\n")
    .filter((l) => /^\s+at /.test(l) && !HIDDEN_FRAME.test(l) && !l.includes(KERNEL_DIR))
    .flatMap((l) => {
      const m = CELL_FILE.exec(l);
      const js = m && executedJs.get(Number(m[1]));
      if (!m || !js) return [l];
      // The last line of the executed JS is our wrapper's call, not the user's code.
      if (Number(m[2]) >= js.split("\n").length) return [];
      const line = cellLineOf(js, Number(m[2]));
      return [l.replace(m[0], line ? `Cell [${m[1]}], line ${line}` : `Cell [${m[1]}]`)];
    });
  return { ename, evalue, traceback: [`${ename}: ${evalue}`, ...frames] };
}

export function isInterrupted(e: CellError): boolean {
  return e.ename === "Interrupted";
}

export { isCompleteCode };
