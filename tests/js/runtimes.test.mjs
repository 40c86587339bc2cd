// The npm package in each runtime and bundler it supports, imported as a dependency
// (tests/js/consumer has it as a file: dependency on pkg/) with a plain `import … from "eqlite"`:
// Node, Deno without permissions, Bun and an executable from `bun build --compile`, workerd
// answering HTTP on loopback, a Vite production build with a module worker in headless Chromium,
// and a page without a bundler. Each evaluates the kubelet attack event of the fixtures and must
// report its alert. The programs are the README's own code blocks wherever the README shows one,
// so every ```js / ```ts block of bindings/wasm/README.md and README.md runs here: the words after
// the language name the runtimes (none means Node).
//
//   bash scripts/build-wasm.sh && (cd tests/js/consumer && npm install)   # once
//   node --test tests/js/runtimes.test.mjs
//
// Runtimes come from tests/js/node_modules (npm deno, bun, workerd, vite, esbuild; scripts/setup.sh);
// Chromium is Debian's /usr/bin/chromium (override with CHROMIUM=/path).
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build as esbuild } from "esbuild";
import { build as viteBuild } from "vite";
import { chromium } from "playwright-core";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "..", "..");
const consumer = path.join(here, "consumer");
const bin = (name) => path.join(here, "node_modules", ".bin", name);
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const installed = path.join(consumer, "node_modules", "eqlite");
if (!fs.existsSync(path.join(installed, "eqlite_bg.wasm"))) {
  throw new Error("the package is not installed in tests/js/consumer: run `bash scripts/build-wasm.sh`, then `npm install` there");
}
const { serve } = await import(pathToFileURL(path.join(root, "scripts", "serve.mjs")).href);

const fixture = JSON.parse(fs.readFileSync(path.join(root, "tests/fixtures/kubelet/direct_kubelet_access_d4c.json"), "utf8"));
const ATTACK = JSON.stringify(fixture.cases.find((c) => c.fires).events[0]);
const RULE_ID = fixture.rule_id;
const RULE_NAME = "Potential Direct Kubelet Access via Process Arguments Detected via Defend for Containers";

// Inside the consumer project, so that "eqlite" resolves to its node_modules as in an application.
const work = fs.mkdtempSync(path.join(consumer, ".tmp-runtimes-"));
after(() => process.env.EQLITE_KEEP_TMP || fs.rmSync(work, { recursive: true, force: true }));

/** Runs a program to completion; fails with its output unless it exits with 0. */
function run(cmd, args, { cwd = work, input, env } = {}) {
  const r = spawnSync(cmd, args, { cwd, input, env: { ...process.env, ...env }, encoding: "utf8", timeout: 120_000 });
  const shown = `${path.basename(cmd)} ${args.join(" ")}`;
  assert.ifError(r.error);
  assert.equal(r.status, 0, `${shown} exited with ${r.status}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`);
  return r.stdout;
}
const DENO_ENV = { DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" };
const ruleIds = (alerts) => alerts.map((a) => a.ruleId);

/** scan.mjs's verdict on the attack event, from its stdout. */
function assertScanned(stdout, who) {
  const { alerts, errors } = JSON.parse(stdout);
  assert.deepEqual(errors, [], who);
  assert.ok(ruleIds(alerts).includes(RULE_ID), `${who}: no alert of ${RULE_ID} in ${stdout}`);
}

// ---------------------------------------------------------------------------------------------
// README code blocks

const KNOWN = ["node", "deno", "bun", "workerd", "browser", "vite-worker", "vite-main"];
function readmeBlocks() {
  const blocks = [];
  for (const rel of ["bindings/wasm/README.md", "README.md"]) {
    const text = fs.readFileSync(path.join(root, rel), "utf8");
    for (const m of text.matchAll(/^```(js|ts|javascript|typescript)\b([^\n]*)\n([\s\S]*?)^```[ \t]*$/gm)) {
      const line = text.slice(0, m.index).split("\n").length;
      const tags = m[2].trim().split(/\s+/).filter(Boolean);
      blocks.push({ where: `${rel}:${line}`, ts: m[1].startsWith("t"), tags: tags.length ? tags : ["node"], code: m[3] });
    }
  }
  return blocks;
}
const blocks = readmeBlocks();
const blocksFor = (tag) => blocks.filter((b) => b.tags.includes(tag));
/** Writes the README blocks for one runtime as modules in the work directory. */
function blockFiles(tag) {
  return blocksFor(tag).map((b, i) => {
    const file = path.join(work, `readme-${tag}-${i}.${b.ts ? "ts" : "mjs"}`);
    fs.writeFileSync(file, b.code);
    return { ...b, file };
  });
}

test("every README code block names runtimes this file runs it in", () => {
  assert.ok(blocks.length >= 5, `only ${blocks.length} blocks found`);
  for (const b of blocks) {
    for (const t of b.tags) assert.ok(KNOWN.includes(t), `${b.where}: unknown runtime ${t} (known: ${KNOWN.join(", ")})`);
    // Node 20 cannot run TypeScript; Deno and Bun can.
    if (b.ts) assert.ok(b.tags.every((t) => t === "deno" || t === "bun"), `${b.where}: a ts block runs in deno or bun only`);
  }
  for (const t of ["vite-worker", "vite-main"]) assert.equal(blocksFor(t).length, blocksFor("vite-main").length ? 1 : 0, t);
});

// ---------------------------------------------------------------------------------------------
// Server-side runtimes: the README blocks, then scan.mjs on the attack event

test("Node: README blocks run; the attack event raises its alert", () => {
  for (const b of blockFiles("node")) run("node", [b.file]);
  assertScanned(run("node", ["scan.mjs"], { cwd: consumer, input: ATTACK }), "node");
});

test("browser entry (node --conditions=browser): calls before init() throw 'call init() first'", () => {
  const probe = path.join(work, "before-init.mjs");
  fs.writeFileSync(
    probe,
    `import init, { Engine, check } from "eqlite";
import { readFileSync } from "node:fs";
const outcome = (f) => { try { f(); return "no error"; } catch (e) { return e.message; } };
const before = [outcome(() => new Engine()), outcome(() => check("any where true"))];
await init({ module_or_path: readFileSync(new URL(import.meta.resolve("eqlite/eqlite_bg.wasm"))) });
const engine = new Engine();
console.log(JSON.stringify({ before, rules: engine.loadDefaultRules(), alerts: engine.evaluate(${JSON.stringify(ATTACK)}) }));
`,
  );
  const out = JSON.parse(run("node", ["--conditions=browser", probe]));
  for (const m of out.before) assert.match(m, /^eqlite: call init\(\) first/);
  assert.equal(out.rules, 20);
  assert.ok(ruleIds(out.alerts).includes(RULE_ID));
});

test("Deno without permissions: README blocks run; the attack event raises its alert", () => {
  // No --allow-* flag, and no prompt: a permission request fails the run.
  for (const b of blockFiles("deno")) run(bin("deno"), ["run", "--no-prompt", b.file], { env: DENO_ENV });
  assertScanned(run(bin("deno"), ["run", "--no-prompt", "scan.mjs"], { cwd: consumer, input: ATTACK, env: DENO_ENV }), "deno");
});

test("Bun, and an executable from bun build --compile run outside the project", () => {
  for (const b of blockFiles("bun")) run(bin("bun"), [b.file]);
  assertScanned(run(bin("bun"), ["scan.mjs"], { cwd: consumer, input: ATTACK }), "bun");
  // The executable must carry the WebAssembly: it runs from a directory with nothing else in it.
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), "eqlite-bun-"));
  try {
    const exe = path.join(outDir, "scan");
    run(bin("bun"), ["build", "--compile", "scan.mjs", "--outfile", exe], { cwd: consumer });
    assertScanned(run(exe, [], { cwd: outDir, input: ATTACK }), "bun build --compile");
  } finally {
    fs.rmSync(outDir, { recursive: true, force: true });
  }
});

// ---------------------------------------------------------------------------------------------
// workerd

/** A port free on loopback just now. */
function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer().once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/**
 * Bundles a Worker the way wrangler does (esbuild, conditions workerd/worker/browser, each
 * imported `.wasm` uploaded as a separate compiled module) and writes a workerd configuration for
 * it. wrangler itself is not used: its current releases need Node ≥ 22.
 */
async function bundleWorker(entry, dir, port) {
  const wasm = new Map();
  await esbuild({
    entryPoints: [entry],
    outfile: path.join(dir, "worker.js"),
    bundle: true,
    format: "esm",
    platform: "neutral",
    conditions: ["workerd", "worker", "browser"],
    mainFields: ["module", "main"],
    logLevel: "error",
    plugins: [
      {
        name: "compiled-wasm",
        setup(b) {
          b.onResolve({ filter: /\.wasm$/ }, (args) => {
            const file = path.resolve(args.resolveDir, args.path);
            wasm.set(path.basename(file), file);
            return { path: `./${path.basename(file)}`, external: true };
          });
        },
      },
    ],
  });
  const modules = [`(name = "worker.js", esModule = embed "worker.js")`];
  for (const [name, file] of wasm) {
    fs.copyFileSync(file, path.join(dir, name));
    modules.push(`(name = ${JSON.stringify(name)}, wasm = embed ${JSON.stringify(name)})`);
  }
  const config = path.join(dir, "config.capnp");
  fs.writeFileSync(
    config,
    `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [(name = "main", worker = .worker)],
  sockets = [(name = "http", address = "127.0.0.1:${port}", http = (), service = "main")],
);
const worker :Workerd.Worker = (
  modules = [${modules.join(", ")}],
  compatibilityDate = "2026-01-01",
);
`,
  );
  return { config, wasm: [...wasm.keys()] };
}

/** POSTs until the server answers (it is starting) or the deadline passes. */
async function post(url, body, deadline, child) {
  for (;;) {
    try {
      return await fetch(url, { method: "POST", body });
    } catch (e) {
      if (child.exitCode !== null || Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

test("workerd serves the README's Worker on loopback; a POSTed attack event raises its alert", async () => {
  const workers = blockFiles("workerd");
  assert.ok(workers.length > 0, "the README shows no Worker");
  for (const [i, b] of workers.entries()) {
    const dir = path.join(work, `workerd-${i}`);
    fs.mkdirSync(dir);
    const port = await freePort();
    const { config, wasm } = await bundleWorker(b.file, dir, port);
    assert.deepEqual(wasm, ["eqlite_bg.wasm"], "the workerd entry imports its WebAssembly as a module");
    const child = spawn(bin("workerd"), ["serve", config], { stdio: ["ignore", "pipe", "pipe"] });
    let log = "";
    child.stdout.on("data", (d) => (log += d));
    child.stderr.on("data", (d) => (log += d));
    try {
      const res = await post(`http://127.0.0.1:${port}/`, ATTACK, Date.now() + 30_000, child).catch((e) => {
        throw new Error(`workerd did not answer: ${e.message}\n${log}`);
      });
      const body = await res.text();
      assert.equal(res.status, 200, `${b.where}: HTTP ${res.status}: ${body}\n${log}`);
      const { alerts, errors } = JSON.parse(body);
      assert.deepEqual(errors, []);
      assert.ok(ruleIds(alerts).includes(RULE_ID), body);
    } finally {
      child.kill();
    }
  }
});

// ---------------------------------------------------------------------------------------------
// Browsers: a Vite production build with a module worker, and a page without a bundler

const PAGE_ERRORS = /Content Security Policy|Refused to|Uncaught|Failed to/i;
function watch(page, problems) {
  page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error" || PAGE_ERRORS.test(m.text())) problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on("response", (r) => r.status() >= 400 && problems.push(`HTTP ${r.status()} ${r.url()}`));
  page.on("worker", (w) => w.on("console", (m) => m.type() === "error" && problems.push(`worker console: ${m.text()}`)));
}
const escapeHtml = (s) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;");

test("Vite production build with the README's module worker shows the alert in Chromium; so does a page without a bundler", async () => {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
  });
  const servers = [];
  try {
    // Vite, default configuration: the README's worker and page script, and a page holding the
    // attack event, which main.js posts to the worker at once (before init() has finished).
    const vite = path.join(work, "vite");
    fs.mkdirSync(vite);
    const [worker] = blocksFor("vite-worker");
    const [main] = blocksFor("vite-main");
    fs.writeFileSync(path.join(vite, "worker.js"), worker.code);
    fs.writeFileSync(path.join(vite, "main.js"), main.code);
    fs.writeFileSync(
      path.join(vite, "index.html"),
      `<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><title>eqlite with Vite</title>
<textarea>${escapeHtml(ATTACK)}</textarea><output></output>
<script type="module" src="./main.js"></script>\n`,
    );
    await viteBuild({ root: vite, configFile: false, logLevel: "warn" });
    const assets = fs.readdirSync(path.join(vite, "dist", "assets"));
    assert.ok(assets.some((f) => f.endsWith(".wasm")), `Vite emitted no .wasm: ${assets}`);

    // No bundler: the package's files as a server would hold them, and an import map.
    const plain = path.join(work, "plain");
    fs.cpSync(fs.realpathSync(installed), path.join(plain, "eqlite"), { recursive: true });
    const pages = blocksFor("browser").map((b, i) => {
      fs.writeFileSync(path.join(plain, `block-${i}.js`), b.code);
      fs.writeFileSync(
        path.join(plain, `block-${i}.html`),
        `<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><title>running</title>
<script type="importmap">{ "imports": { "eqlite": "/eqlite/eqlite.js" } }</script>
<script type="module">
import("./block-${i}.js").then(() => { document.title = "done"; }, (e) => { document.title = "failed: " + e; });
</script>\n`,
      );
      return { ...b, page: `block-${i}.html` };
    });
    // A page without a bundler evaluating the attack event, with the same import map.
    fs.writeFileSync(
      path.join(plain, "attack.html"),
      `<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><title>running</title>
<script type="importmap">{ "imports": { "eqlite": "/eqlite/eqlite.js" } }</script>
<script type="module">
import init, { Engine } from "eqlite";
await init();
const engine = new Engine();
engine.loadDefaultRules();
document.title = "done " + JSON.stringify(engine.evaluate(${JSON.stringify(ATTACK)}).map((a) => a.ruleId));
</script>\n`,
    );

    const viteServer = await serve({ root: path.join(vite, "dist"), port: 0 });
    const plainServer = await serve({ root: plain, port: 0 });
    servers.push(viteServer, plainServer);

    const problems = [];
    const page = await browser.newPage();
    watch(page, problems);
    await page.goto(viteServer.url);
    await page.waitForFunction(() => document.querySelector("output")?.textContent, null, { timeout: 30_000 }).catch((e) => {
      throw new Error(`${e.message}\n${problems.join("\n")}`);
    });
    const shown = await page.locator("output").textContent();
    assert.ok(shown.includes(`high: ${RULE_NAME}`), `the page shows: ${shown}`);
    // Typing re-evaluates: a benign command raises nothing.
    const benign = JSON.parse(ATTACK);
    benign.process.args = ["curl", "-sk", "https://10.0.1.22:10251/healthz"];
    benign.process.command_line = benign.process.args.join(" ");
    await page.locator("textarea").fill(JSON.stringify(benign));
    await page.waitForFunction(() => document.querySelector("output").textContent === "no alerts", null, { timeout: 30_000 });

    for (const p of [...pages.map((b) => ({ ...b, expect: /^done$/ })), { where: "attack.html", page: "attack.html", expect: /^done / }]) {
      await page.goto(new URL(p.page, plainServer.url).href);
      await page.waitForFunction(() => document.title !== "running", null, { timeout: 30_000 });
      const title = await page.title();
      assert.match(title, p.expect, `${p.where}: ${title}`);
      if (p.page === "attack.html") assert.ok(JSON.parse(title.slice(5)).includes(RULE_ID), title);
    }
    assert.deepEqual(problems, []);
  } finally {
    await browser.close();
    for (const s of servers) await s.close();
  }
});
