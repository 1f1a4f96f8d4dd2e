// Fails when a line of code is longer than 120 characters (prettier wraps code, but not strings
// and comments), in the project's code and in the notebooks' code cells, which prettier does not
// read: `npm run format:check` runs it after prettier. Prints each offender as file:line (for a
// notebook, file: cell N, line M).
const { execFileSync } = require("node:child_process");
const { readFileSync } = require("node:fs");

const LIMIT = 120;
const tracked = (...patterns) =>
  execFileSync("git", ["ls-files", ...patterns], { encoding: "utf8" })
    .split("\n")
    .filter(Boolean);

const long = tracked("*.ts", "*.mts", "*.js").flatMap((file) =>
  readFileSync(file, "utf8")
    .split("\n")
    .flatMap((line, i) => (line.length > LIMIT ? [`${file}:${i + 1}: ${line.length} characters`] : [])),
);
for (const file of tracked("notebooks/*.ipynb")) {
  const cells = JSON.parse(readFileSync(file, "utf8")).cells.filter((c) => c.cell_type === "code");
  cells.forEach((cell, n) => {
    const source = Array.isArray(cell.source) ? cell.source.join("") : String(cell.source);
    source.split("\n").forEach((line, i) => {
      if (line.length > LIMIT) long.push(`${file}: cell ${n + 1}, line ${i + 1}: ${line.length} characters`);
    });
  });
}
for (const l of long) console.error(l);
if (long.length) {
  console.error(`${long.length} line(s) longer than ${LIMIT} characters`);
  process.exit(1);
}
