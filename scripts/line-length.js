// Fails when a line of code is longer than 120 characters (prettier wraps code, but not strings
// and comments): `npm run format:check` runs it after prettier. Prints each offender as file:line.
const { execFileSync } = require("node:child_process");
const { readFileSync } = require("node:fs");

const LIMIT = 120;
const files = execFileSync("git", ["ls-files", "*.ts", "*.mts", "*.js"], { encoding: "utf8" })
  .split("\n")
  .filter(Boolean);
const long = files.flatMap((file) =>
  readFileSync(file, "utf8")
    .split("\n")
    .flatMap((line, i) => (line.length > LIMIT ? [`${file}:${i + 1}: ${line.length} characters`] : [])),
);
for (const l of long) console.error(l);
if (long.length) {
  console.error(`${long.length} line(s) longer than ${LIMIT} characters`);
  process.exit(1);
}
