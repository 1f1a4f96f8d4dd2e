// The shape of the house, checked: helpers/ is a stack of layers, each folder importing only the
// layers below it (and the cell runtime), with no import cycle between modules; the kernel does not
// import helpers; only the cell runtime touches globalThis; no module is named after a scenario;
// every module says in its first lines what it is for. See helpers/README.md for the map.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const root = join(__dirname, "..");
/** Bottom to top: a module may import its own layer and those listed before it. */
const LAYERS = ["wire", "models", "os", "net", "lab", "measure", "view"];

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return files(path);
    return path.endsWith(".ts") ? [path] : [];
  });
}

/** The repo-relative files a module imports by a relative path (imports, re-exports, require). */
function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const specs = [...text.matchAll(/(?:from\s+|require\(|import\()"(\.{1,2}\/[^"]+)"/g)].map((m) => m[1]);
  return specs.map((spec) => {
    const base = resolve(dirname(file), spec);
    for (const candidate of [`${base}.ts`, join(base, "index.ts"), base]) {
      try {
        if (statSync(candidate).isFile()) return relative(root, candidate);
      } catch {
        // try the next form
      }
    }
    return relative(root, base);
  });
}

const helpers = files(join(root, "helpers")).map((f) => relative(root, f));
const kernel = files(join(root, "kernel")).map((f) => relative(root, f));
const layerOf = (file: string): number => {
  const folder = file.split("/")[1];
  if (file === "helpers/index.ts") return LAYERS.length; // the public surface sits on top
  return LAYERS.indexOf(folder);
};

describe("the layers of helpers/", () => {
  it("every module lives in one of the layers", () => {
    expect(helpers.filter((f) => layerOf(f) < 0)).toEqual([]);
  });

  it("no module imports from a higher layer; from the kernel only the cell runtime", () => {
    const upward: string[] = [];
    for (const file of helpers) {
      for (const target of importsOf(join(root, file))) {
        if (target.startsWith("kernel/")) {
          if (target !== "kernel/runtime.ts") upward.push(`${file} -> ${target}`);
        } else if (target.startsWith("helpers/") && layerOf(target) > layerOf(file)) {
          upward.push(`${file} -> ${target}`);
        }
      }
    }
    expect(upward).toEqual([]);
  });

  it("no import cycle between modules", () => {
    const graph = new Map(helpers.map((f) => [f, importsOf(join(root, f)).filter((t) => t.startsWith("helpers/"))]));
    const cycles: string[] = [];
    const state = new Map<string, "open" | "done">();
    const visit = (f: string, path: string[]) => {
      if (state.get(f) === "done") return;
      if (state.get(f) === "open") {
        cycles.push([...path.slice(path.indexOf(f)), f].join(" -> "));
        return;
      }
      state.set(f, "open");
      for (const t of graph.get(f) ?? []) visit(t, [...path, f]);
      state.set(f, "done");
    };
    for (const f of helpers) visit(f, []);
    expect(cycles).toEqual([]);
  });

  it("no module is named after a notebook or a scenario", () => {
    expect(helpers.filter((f) => /-lab\.ts$|\/labnet\.ts$|\d\d-/.test(f))).toEqual([]);
  });

  it("every module opens with a comment saying what it is for", () => {
    const silent = [...helpers, ...kernel].filter((f) => !/^\/\/ \S/.test(readFileSync(join(root, f), "utf8")));
    expect(silent).toEqual([]);
  });
});

describe("the kernel and the cell runtime", () => {
  it("the kernel imports no helper", () => {
    const found = kernel.flatMap((f) =>
      importsOf(join(root, f))
        .filter((t) => t.startsWith("helpers/"))
        .map((t) => `${f} -> ${t}`),
    );
    expect(found).toEqual([]);
  });

  it("only the cell runtime touches globalThis", () => {
    const code = (f: string) => readFileSync(join(root, f), "utf8").replace(/^\s*(\/\/|\*|\/\*).*$/gm, "");
    const users = [...helpers, ...kernel].filter((f) => f !== "kernel/runtime.ts" && /\bglobalThis\b/.test(code(f)));
    expect(users).toEqual([]);
  });
});
