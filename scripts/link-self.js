// Makes `import ... from "wirebook/helpers/..."` resolve for tslab's type checker, which uses
// Node10 module resolution and so ignores package.json "exports" self-references: we link
// node_modules/wirebook to this checkout. Runs on every npm install / npm ci.
const fs = require("node:fs");
const path = require("node:path");

const link = path.join(__dirname, "..", "node_modules", "wirebook");
try {
  if (fs.lstatSync(link).isSymbolicLink() && fs.readlinkSync(link) === "..") process.exit(0);
  fs.rmSync(link, { recursive: true, force: true });
} catch {
  // no link yet
}
fs.mkdirSync(path.dirname(link), { recursive: true });
fs.symlinkSync("..", link, "dir");
