// The kernel's entry, in plain JavaScript so Node starts it without a TypeScript loader: it loads
// the compiler that checks cells (7.8 MB of JavaScript) before tsx is registered, so tsx does not
// read and hash it at every start, then registers tsx, which the kernel's own modules and the
// helpers that cells import need, and starts kernel/main.ts (or, in the wire thread, its module).
"use strict";
const { isMainThread, workerData } = require("node:worker_threads");
const { join } = require("node:path");

if (isMainThread) {
  require("@tslab/typescript-for-tslab");
  require("tslab/dist/converter");
}
require("tsx/cjs");
require(isMainThread ? join(__dirname, "main.ts") : workerData.entry);
