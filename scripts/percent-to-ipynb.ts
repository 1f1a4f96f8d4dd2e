// Authoring aid: turns a percent-format script into an unexecuted notebook.
//   // %% [markdown]        a markdown cell; its lines start with "// "
//   // %% tags=["a","b"]    a code cell with cell tags
//   // %%                   a code cell
// usage: node -r tsx/cjs scripts/percent-to-ipynb.ts SCRIPT.ts notebooks/NN-name.ipynb
// Then run the notebook with the project runner (--inplace) to store its outputs.
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { writeNotebook, type Cell } from "../kernel/nbformat";

const [src, dest] = process.argv.slice(2);
if (!src || !dest) {
  console.error("usage: percent-to-ipynb SCRIPT.ts NOTEBOOK.ipynb");
  process.exit(2);
}
const cells: Cell[] = [];
for (const chunk of readFileSync(src, "utf8")
  .split(/^\/\/ %%/m)
  .slice(1)) {
  const [head, ...body] = chunk.split("\n");
  const text = body.join("\n").replace(/\n+$/, "");
  const id = randomBytes(4).toString("hex");
  if (head.includes("[markdown]")) {
    cells.push({ id, cell_type: "markdown", metadata: {}, source: text.replace(/^\/\/ ?/gm, "") });
  } else {
    const tags = /tags=(\[.*\])/.exec(head);
    cells.push({
      id,
      cell_type: "code",
      metadata: tags ? { tags: JSON.parse(tags[1]) } : {},
      source: text,
      execution_count: null,
      outputs: [],
    });
  }
}
writeNotebook(dest, { nbformat: 4, nbformat_minor: 5, metadata: {}, cells });
console.log(`${dest}: ${cells.length} cells`);
