// tslab rewrites a name declared by an earlier cell into `exports.name`, but not where it stands
// as a shorthand property: `{ data }` stays `{ data }` and throws "data is not defined". Writing
// every shorthand property out in full (`{ data: data }`) before conversion means the same in
// JavaScript and gives tslab a name it rewrites. Only text is inserted inside lines, so line
// numbers in tracebacks stay the cell's own.
import ts from "typescript";

export function expandShorthandProperties(src: string): string {
  const file = ts.createSourceFile("cell.ts", src, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const at: Array<{ pos: number; name: string }> = [];
  const visit = (node: ts.Node) => {
    if (ts.isShorthandPropertyAssignment(node)) at.push({ pos: node.name.getStart(file), name: node.name.text });
    ts.forEachChild(node, visit);
  };
  visit(file);
  let out = src;
  for (const { pos, name } of at.sort((a, b) => b.pos - a.pos)) out = `${out.slice(0, pos)}${name}: ${out.slice(pos)}`;
  return out;
}
