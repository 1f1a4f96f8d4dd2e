// tslab compiles a cell twice (TS -> ESM -> CommonJS) without source maps, so a stack line in the
// executed JS says nothing about the cell. We prefix each cell line with a comment /*@L<n>*/:
// TypeScript keeps leading comments when it emits, so the nearest marker at or above a JS line
// names the cell line that produced it.
import * as ts from "@tslab/typescript-for-tslab";

const MARKER = /\/\*@L(\d+)\*\//g;
const markerFor = (line: number) => `/*@L${line}*/`;

/** Ranges [start, end) where a marker must not go: string, template and regex literals, comments. */
function protectedRanges(src: string): Array<[number, number]> {
  const ranges: Array<[number, number]> = [];
  const file = ts.createSourceFile("cell.ts", src, ts.ScriptTarget.Latest, true);
  const literalKinds = new Set([
    ts.SyntaxKind.StringLiteral,
    ts.SyntaxKind.NoSubstitutionTemplateLiteral,
    ts.SyntaxKind.TemplateHead,
    ts.SyntaxKind.TemplateMiddle,
    ts.SyntaxKind.TemplateTail,
    ts.SyntaxKind.RegularExpressionLiteral,
    ts.SyntaxKind.JsxText,
  ]);
  const visit = (node: ts.Node) => {
    if (literalKinds.has(node.kind)) ranges.push([node.getStart(file), node.end]);
    // Template spans hold their literal parts as children, so recurse everywhere.
    node.forEachChild(visit);
    if (ts.isTemplateSpan(node)) visit(node.literal);
    if (ts.isTemplateExpression(node)) visit(node.head);
  };
  visit(file);
  ranges.sort((a, b) => a[0] - b[0]);
  // Outside literals, "/*" and "//" can only start comments.
  const comments: Array<[number, number]> = [];
  let r = 0;
  for (let i = 0; i < src.length; i++) {
    while (r < ranges.length && ranges[r][1] <= i) r++;
    if (r < ranges.length && ranges[r][0] <= i) {
      i = ranges[r][1] - 1;
      continue;
    }
    if (src.startsWith("/*", i)) {
      const end = src.indexOf("*/", i + 2);
      const stop = end < 0 ? src.length : end + 2;
      comments.push([i, stop]);
      i = stop - 1;
    } else if (src.startsWith("//", i)) {
      const end = src.indexOf("\n", i);
      i = end < 0 ? src.length : end;
    }
  }
  return [...ranges, ...comments];
}

/** The cell with a marker at the start of each non-blank line that is not inside a literal or comment. */
export function addLineMarkers(src: string): string {
  const ranges = protectedRanges(src);
  const lines = src.split("\n");
  let offset = 0;
  return lines
    .map((line, i) => {
      const start = offset;
      offset += line.length + 1;
      const inside = ranges.some(([a, b]) => a < start && start < b);
      return inside || line.trim() === "" ? line : markerFor(i + 1) + line;
    })
    .join("\n");
}

/** Length of the marker on a marked cell line (to correct diagnostics' columns), 0 if none. */
export function markerLength(markedSrc: string, zeroBasedLine: number): number {
  const line = markedSrc.split("\n")[zeroBasedLine] ?? "";
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
