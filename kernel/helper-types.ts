// Cells see the helpers through their declarations. Left alone, tslab's converter type-checks the
// TypeScript source of every helper a notebook imports, and of everything those import, in every
// kernel: 1.7 s for the first cell of a lab notebook, 0.3 s with declarations instead. They are
// built once, by the compiler the converter itself uses, at install (npm's postinstall) and again
// by the runner and the tests when a helper has changed since; a kernel that finds them stale (a
// helper edited, the runner not run) checks the sources, as before: slower, never wrong.
//
// `node --require tsx/cjs kernel/helper-types.ts` builds them.
import type * as Typescript from "@tslab/typescript-for-tslab";
import {
  existsSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { basename, dirname, join, relative } from "node:path";

// Loaded when used: the runner, which only checks freshness, need not load a compiler.
const typescript = (): typeof Typescript => require("@tslab/typescript-for-tslab");
const root = join(__dirname, "..");
const cacheDir = join(root, "node_modules", ".cache", "wirebook");
const typesDir = join(cacheDir, "helper-types");
/** The sources the declarations were built from, with their modification times. */
const stampName = "sources.json";

/** Every TypeScript source under helpers/ and kernel/ (relative path → mtime in whole ms). */
function sources(): Record<string, number> {
  const found: Record<string, number> = {};
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts")) {
        found[relative(root, path)] = Math.floor(statSync(path).mtimeMs);
      }
    }
  };
  walk(join(root, "helpers"));
  walk(join(root, "kernel"));
  return found;
}

/** Whether the declarations exist and were built from the sources as they are now. */
export function helperTypesFresh(): boolean {
  try {
    const built: Record<string, number> = JSON.parse(readFileSync(join(typesDir, stampName), "utf8"));
    const now = sources();
    const names = Object.keys(now);
    return names.length === Object.keys(built).length && names.every((n) => built[n] === now[n]);
  } catch {
    return false;
  }
}

/** Builds the declarations of helpers/ (and of the kernel modules they import) into the cache,
 *  in a directory of its own first, so a kernel starting meanwhile sees the old set or the new. */
export function buildHelperTypes(): { files: number; ms: number } {
  const ts = typescript();
  const started = Date.now();
  const from = sources();
  const staging = join(cacheDir, `helper-types.${process.pid}`);
  rmSync(staging, { recursive: true, force: true });
  const program = ts.createProgram(
    Object.keys(from)
      .filter((n) => n.startsWith("helpers"))
      .map((n) => join(root, n)),
    // tslab's converter's own options (tslab/dist/converter.js), so that what a declaration says
    // is what the converter would infer from the source: not strict, for one (a `null` that a
    // strict build writes down means something else to a program without strictNullChecks).
    {
      target: ts.ScriptTarget.ES2022,
      lib: ["lib.es2022.d.ts"],
      module: ts.ModuleKind.ESNext,
      moduleResolution: ts.ModuleResolutionKind.Node10,
      esModuleInterop: true,
      experimentalDecorators: true,
      resolveJsonModule: true,
      jsx: ts.JsxEmit.React,
      types: ["node"],
      typeRoots: [join(root, "node_modules", "@types")],
      skipLibCheck: true,
      declaration: true,
      emitDeclarationOnly: true,
      rootDir: root,
      outDir: staging,
    },
  );
  const emitted = program.emit();
  if (emitted.emitSkipped || emitted.diagnostics.length) {
    rmSync(staging, { recursive: true, force: true });
    const why = emitted.diagnostics.map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n"));
    throw new Error(`the helpers' declarations could not be built: ${why.slice(0, 3).join("; ") || "emit skipped"}`);
  }
  writeFileSync(join(staging, stampName), JSON.stringify(from));
  rmSync(typesDir, { recursive: true, force: true });
  try {
    renameSync(staging, typesDir);
  } catch {
    rmSync(staging, { recursive: true, force: true }); // another build got there first: its set stands
  }
  return { files: program.getRootFileNames().length, ms: Date.now() - started };
}

/** Rebuilds the declarations if a helper changed since they were built; what was done, or null. */
export function refreshHelperTypes(): { files: number; ms: number } | null {
  return helperTypesFresh() ? null : buildHelperTypes();
}

/** One line saying what a build did, for the runner, the tests' setup and the command line. */
export const builtLine = (built: { files: number; ms: number }) =>
  `helper declarations built: ${built.files} helpers in ${(built.ms / 1000).toFixed(1)} s`;

const realDirs = new Map<string, string | null>();
/** The declaration that stands for a helper or kernel source TypeScript asks about, or undefined:
 *  judged by where its folder really is, since a notebook reaches the helpers through a link
 *  (node_modules/wirebook, here or in a learner's own folder). */
function declarationOf(path: string): string | undefined {
  if (!path.endsWith(".ts")) return undefined;
  const dir = dirname(path);
  if (!realDirs.has(dir)) {
    try {
      realDirs.set(dir, realpathSync.native(dir));
    } catch {
      realDirs.set(dir, null);
    }
  }
  const real = realDirs.get(dir);
  const rel = real && relative(root, join(real, basename(path)));
  if (!rel || !/^(helpers|kernel)\/.+\.ts$/.test(rel)) return undefined;
  return join(typesDir, rel.replace(/(\.d)?\.ts$/, ".d.ts"));
}

let redirected: boolean | undefined;
/** Makes the converter (through ts.sys, which it reads files with) find each helper's declaration
 *  where its source is, when the declarations are fresh; true if it did. Once per process. */
export function checkCellsAgainstHelperTypes(): boolean {
  if (redirected !== undefined) return redirected;
  redirected = helperTypesFresh();
  if (!redirected) return false;
  const { sys } = typescript();
  const fileExists = sys.fileExists.bind(sys);
  const readFile = sys.readFile.bind(sys);
  // Resolution tries lib.ts before lib.d.ts: the source is hidden where its declaration exists.
  sys.fileExists = (path) => {
    const declaration = declarationOf(path);
    if (!declaration) return fileExists(path);
    return path.endsWith(".d.ts") ? existsSync(declaration) : !existsSync(declaration) && fileExists(path);
  };
  sys.readFile = (path, encoding) => {
    const declaration = declarationOf(path);
    return declaration && path.endsWith(".d.ts") ? readFile(declaration, encoding) : readFile(path, encoding);
  };
  return true;
}

if (require.main === module) {
  console.log(builtLine(buildHelperTypes()));
}
