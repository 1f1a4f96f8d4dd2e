// The widgets in a real frontend: Debian's Jupyter server runs the wirebook kernel, and a page built
// from npm's @jupyterlab/services and @jupyter-widgets/html-manager (test/browser/page.ts) renders
// its widgets in headless Chromium. A key press moves a slider; the kernel must receive the value,
// re-run the interact function and redraw its chart in the page. Skipped, with the reason, where
// Chromium or the Jupyter server is missing (kernel/peers.ts installs both for the tests).
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { extname, join } from "node:path";
import { build } from "esbuild";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../helpers/measure/throughput";
import { installKernelSpec } from "../../kernel/kernelspec";

const CHROMIUM = "/usr/bin/chromium";
const JUPYTER_SERVER = "/usr/bin/jupyter-server";
const missing = [CHROMIUM, JUPYTER_SERVER].filter((p) => !existsSync(p));
const root = join(__dirname, "..", "..");
// As the machine's Chromium is started for tests on a closed network: no background connections.
const CHROMIUM_FLAGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
const T = 120_000;

let dir: string;
let jupyter: ChildProcess | undefined;
let site: Server | undefined;
let browser: Browser | undefined;
let page: Page;
const pageErrors: string[] = [];
const consoleLines: string[] = [];

/** The page: page.ts bundled for the browser, with the widgets' CSS, served from `dir`. */
async function bundlePage(out: string) {
  await build({
    entryPoints: [join(__dirname, "page.ts")],
    bundle: true,
    outfile: join(out, "page.js"),
    format: "iife",
    platform: "browser",
    minify: true,
    logLevel: "error",
    loader: Object.fromEntries([".woff", ".woff2", ".ttf", ".eot", ".svg", ".png", ".gif"].map((e) => [e, "file"])),
    // The widget packages are built for webpack: they read and set its public path, and use Node's
    // `global`.
    banner: { js: 'var __webpack_public_path__ = "/";' },
    define: { global: "window", "process.env.NODE_ENV": '"production"' },
  });
  writeFileSync(
    join(out, "index.html"),
    '<!doctype html><html><head><meta charset="utf-8"><link rel="stylesheet" href="page.css"></head>' +
      '<body><div id="cells"></div><script src="page.js"></script></body></html>\n',
  );
}

function serve(folder: string): Promise<Server> {
  const types: Record<string, string> = { ".html": "text/html", ".js": "text/javascript", ".css": "text/css" };
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://page").pathname;
    const file = join(folder, path === "/" ? "index.html" : path.replace(/\.\.+/g, ""));
    if (!existsSync(file)) return void res.writeHead(404).end();
    res.writeHead(200, { "content-type": types[extname(file)] ?? "application/octet-stream" });
    res.end(readFileSync(file));
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

async function startJupyter(port: number, token: string, env: NodeJS.ProcessEnv): Promise<ChildProcess> {
  const args = [
    "--no-browser",
    "--ServerApp.ip=127.0.0.1",
    `--ServerApp.port=${port}`,
    "--ServerApp.port_retries=0",
    `--ServerApp.token=${token}`,
    "--ServerApp.allow_origin=*",
    "--ServerApp.allow_root=True",
    `--ServerApp.root_dir=${join(root, "notebooks")}`,
  ];
  const proc = spawn(JUPYTER_SERVER, args, { env, stdio: ["ignore", "ignore", "pipe"] });
  let log = "";
  proc.stderr!.on("data", (d) => (log += d));
  for (let i = 0; i < 300; i++) {
    if (proc.exitCode !== null) throw new Error(`jupyter-server exited: ${log}`);
    const ok = await fetch(`http://127.0.0.1:${port}/api/status?token=${token}`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return proc;
    await new Promise((r) => setTimeout(r, 100));
  }
  proc.kill();
  throw new Error(`jupyter-server did not answer in 30 s: ${log}`);
}

const run = (code: string): Promise<string[]> => page.evaluate((c) => (globalThis as any).wirebook.run(c), code);
const chartOf = () => page.locator(".widget-output").first().innerHTML();

describe.skipIf(missing.length > 0)("widgets in a browser, through a Jupyter server", () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "wirebook-browser-"));
    const env = { ...process.env, JUPYTER_DATA_DIR: dir, JUPYTER_PATH: dir, JUPYTER_RUNTIME_DIR: dir };
    installKernelSpec({ kind: "user" }, env);
    await bundlePage(join(dir, "site"));
    site = await serve(join(dir, "site"));
    const port = await freePort();
    const token = Math.random().toString(16).slice(2);
    jupyter = await startJupyter(port, token, { ...env, JUPYTER_CONFIG_DIR: dir });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS });
    page = await browser.newPage();
    page.on("pageerror", (e) => pageErrors.push(e.message));
    page.on("console", (m) => consoleLines.push(m.text()));
    const address = site.address();
    const sitePort = typeof address === "object" && address ? address.port : 0;
    const server = encodeURIComponent(`http://127.0.0.1:${port}/`);
    await page.goto(`http://127.0.0.1:${sitePort}/?server=${server}&token=${token}`);
    await page
      .waitForFunction(() => (globalThis as any).wirebook, null, { timeout: 60_000 })
      .catch((e) => {
        throw new Error(`the page did not start: ${e}\n${[...pageErrors, ...consoleLines].join("\n")}`);
      });
    const error = await page.evaluate(() => (globalThis as any).wirebook.error);
    if (error) throw new Error(`the page could not start a kernel: ${error}`);
  }, T);

  afterAll(async () => {
    await page?.evaluate(() => (globalThis as any).wirebook?.shutdown?.()).catch(() => {});
    await browser?.close();
    site?.close();
    jupyter?.kill("SIGTERM");
    if (jupyter && jupyter.exitCode === null) await new Promise((r) => jupyter!.once("exit", r));
    rmSync(dir, { recursive: true, force: true });
  }, T);

  it(
    "a key press on the slider reaches the kernel, which re-runs the function and redraws the chart",
    async () => {
      const cell = [
        'import { intSlider, interact } from "wirebook/helpers/view/widgets";',
        'import { chart } from "wirebook/helpers/view/plot";',
        "const xs = [0, 1, 2, 3, 4];",
        "const shown = interact({ n: intSlider({ value: 2, max: 10, description: 'slope' }) }, ({ n }) =>",
        "  chart({ data: { values: xs.map((x) => ({ x, y: n * x })) }, mark: 'line',",
        "    encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' } } },",
        "    `y = ${n}x`));",
      ].join("\n");
      expect(await run(cell)).toEqual([]);
      await expect.poll(chartOf, { timeout: 30_000 }).toMatch(/svg/);
      const before = await chartOf();
      const handle = page.locator(".widget-slider .noUi-handle").first();
      await handle.focus();
      for (let i = 0; i < 3; i++) await handle.press("ArrowRight");
      // The kernel has the value the page set, and the function ran again with it.
      await expect.poll(() => run("shown.controls.n.value"), { timeout: 30_000 }).toEqual(["5"]);
      await expect.poll(() => run("shown.runs > 1"), { timeout: 30_000 }).toEqual(["true"]);
      await expect.poll(chartOf, { timeout: 30_000 }).not.toEqual(before);
      expect(await chartOf()).toMatch(/svg/);
      expect(pageErrors).toEqual([]);
    },
    T,
  );
});

if (missing.length) console.log(`skipped: the browser widget test needs ${missing.join(" and ")}`);
