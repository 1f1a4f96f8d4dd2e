// The one pre-pass over a cell's source before tslab converts it. It parses the cell once, with
// tslab's own TypeScript, and rewrites it in two ways that only insert text inside lines, so every
// line stays where it was:
//   - shorthand properties are written out (`{ data }` becomes `{ data: data }`): tslab rewrites a
//     name an earlier cell declared into `exports.name`, but not where it stands as a shorthand
//     property, which would then throw "data is not defined";
//   - each line gets a marker comment /*@L<n>*/: tslab compiles a cell twice (TS -> ESM ->
//     CommonJS) without source maps, but TypeScript keeps leading comments when it emits, so the
//     nearest marker at or above a line of the executed JS names the cell line that produced it.
// Reading the markers back (for tracebacks and diagnostics' columns) is here too.
import * as ts from "@tslab/typescript-for-tslab";

const MARKER = /\/\*@L(\d+)\*\//g;
const markerFor = (line: number) => `/*@L${line}*/`;

const LITERAL_KINDS = new Set([
  ts.SyntaxKind.StringLiteral,
  ts.SyntaxKind.NoSubstitutionTemplateLiteral,
  ts.SyntaxKind.TemplateHead,
  ts.SyntaxKind.TemplateMiddle,
  ts.SyntaxKind.TemplateTail,
  ts.SyntaxKind.RegularExpressionLiteral,
  ts.SyntaxKind.JsxText,
]);

interface Insertion {
  pos: number;
  text: string;
}

/** What the parse tells us: ranges [start, end) of literals, of import and export declarations
 *  (no marker goes inside one: TypeScript turns `import {\n a }` into a getter that emits the
 *  marker between `return` and `a`, and a newline there makes the getter return undefined), and
 *  the shorthand properties to expand. */
function parse(src: string): {
  literals: Array<[number, number]>;
  quiet: Array<[number, number]>;
  expansions: Insertion[];
} {
  const file = ts.createSourceFile("cell.ts", src, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const literals: Array<[number, number]> = [];
  const quiet: Array<[number, number]> = [];
  const expansions = new Map<number, string>();
  const visit = (node: ts.Node) => {
    if (LITERAL_KINDS.has(node.kind)) literals.push([node.getStart(file), node.end]);
    if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) quiet.push([node.getStart(file), node.end]);
    if (ts.isShorthandPropertyAssignment(node)) expansions.set(node.name.getStart(file), `${node.name.text}: `);
    // Template spans hold their literal parts as children, so recurse everywhere.
    node.forEachChild(visit);
    if (ts.isTemplateSpan(node)) visit(node.literal);
    if (ts.isTemplateExpression(node)) visit(node.head);
  };
  visit(file);
  literals.sort((a, b) => a[0] - b[0]);
  return { literals, quiet, expansions: [...expansions].map(([pos, text]) => ({ pos, text })) };
}

/** Comments, found by scanning outside literals, where "/*" and "//" can only start comments. */
function comments(src: string, literals: Array<[number, number]>): Array<[number, number]> {
  const found: Array<[number, number]> = [];
  let r = 0;
  for (let i = 0; i < src.length; i++) {
    while (r < literals.length && literals[r][1] <= i) r++;
    if (r < literals.length && literals[r][0] <= i) {
      i = literals[r][1] - 1;
      continue;
    }
    if (src.startsWith("/*", i)) {
      const end = src.indexOf("*/", i + 2);
      const stop = end < 0 ? src.length : end + 2;
      found.push([i, stop]);
      i = stop - 1;
    } else if (src.startsWith("//", i)) {
      const end = src.indexOf("\n", i);
      i = end < 0 ? src.length : end;
    }
  }
  return found;
}

/** A marker at the start of each non-blank line that does not start inside a literal, a comment,
 *  or an import or export declaration. */
function markers(src: string, literals: Array<[number, number]>, quiet: Array<[number, number]>): Insertion[] {
  const inside = [...literals, ...quiet, ...comments(src, literals)];
  const out: Insertion[] = [];
  let start = 0;
  src.split("\n").forEach((line, i) => {
    if (line.trim() !== "" && !inside.some(([a, b]) => a < start && start < b)) {
      out.push({ pos: start, text: markerFor(i + 1) });
    }
    start += line.length + 1;
  });
  return out;
}

/** The source tslab converts: shorthand properties written out and every line marked. */
export function prepareCell(src: string): string {
  const { literals, quiet, expansions } = parse(src);
  // A marker goes before an expansion at the same place (a line that starts with `a,`).
  const all = [...markers(src, literals, quiet), ...expansions].sort((a, b) => a.pos - b.pos);
  let out = "";
  let at = 0;
  for (const { pos, text } of all) {
    out += src.slice(at, pos) + text;
    at = pos;
  }
  return out + src.slice(at);
}

/** Length of the marker on a prepared cell line (to correct diagnostics' columns), 0 if none. */
export function markerLength(preparedSrc: string, zeroBasedLine: number): number {
  const line = preparedSrc.split("\n")[zeroBasedLine] ?? "";
  const m = /^\/\*@L\d+\*\//.exec(line);
  return m ? m[0].length : 0;
}

/** The cell line (1-based) for a line (1-based) of the executed JS, from the nearest marker above. */
export function cellLineOf(executedJs: string, jsLine: number): number | undefined {
  const lines = executedJs.split("\n");
  for (let i = Math.min(jsLine, lines.length) - 1; i >= 0; i--) {
    const found = [...lines[i].matchAll(MARKER)];
    if (found.length) return Number(found[0][1]); // leading markers: the first starts this line
  }
  return undefined;
}
