// End-to-end test of the playground (www/) in headless Chromium.
//
//   bash scripts/build-wasm.sh            # once: builds pkg/
//   node --test tests/js/page.test.mjs    # from the repository root or from tests/js
//
// Serves a temporary copy of www/ with the freshly built pkg/ (so a stale www/pkg cannot hide a
// rebuild) through scripts/serve.mjs, drives the page with playwright-core and Debian's
// /usr/bin/chromium (override with CHROMIUM=/path), and saves a screenshot of every step in
// artifacts/screenshots/. Set EQLITE_SKIP_LARGE=1 to skip the 10 MB paste.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { chromium } from "playwright-core";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "..", "..");
const pkgDir = path.join(root, "pkg");
const wwwDir = path.join(root, "www");
const shots = path.join(root, "artifacts", "screenshots");
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";

const RULE_D4C = "Potential Direct Kubelet Access via Process Arguments Detected via Defend for Containers";
const RULE_D4C_ID = "b4bd186b-69c6-45ad-8bef-5c35bbadeaef";
const RULE_SEQ = "Service Account Token or Certificate Access Followed by Kubernetes API Request";

if (!fs.existsSync(path.join(pkgDir, "eqlite_bg.wasm"))) {
  throw new Error("pkg/ is missing: run `bash scripts/build-wasm.sh` first");
}
const { serve } = await import(pathToFileURL(path.join(root, "scripts", "serve.mjs")).href);
// The engine in Node, to compute the positions the page must show.
const eqlite = await import(pathToFileURL(path.join(pkgDir, "node.js")).href);

const fixture = JSON.parse(fs.readFileSync(path.join(root, "tests/fixtures/kubelet/direct_kubelet_access_d4c.json"), "utf8"));
/** A Defend for Containers process event: curl against a kubelet, from the fixtures. */
function attackEvent(args = ["curl", "-sk", "https://10.0.0.12:10250/pods"]) {
  const ev = structuredClone(fixture.cases[0].events[0]);
  ev.process.args = args;
  ev.process.args_count = args.length;
  ev.process.command_line = args.join(" ");
  return ev;
}
/** The same event aimed at port 10251: a near miss. */
function benignEvent() {
  return attackEvent(["curl", "-sk", "https://10.0.0.12:10251/healthz"]);
}

let server;
let browser;
let context;
let page;
let tmpRoot;
const problems = [];
const dialogs = [];
let shotNo = 0;

async function shot(name, p = page) {
  fs.mkdirSync(shots, { recursive: true });
  const file = path.join(shots, `${String(++shotNo).padStart(2, "0")}-${name}.png`);
  await p.screenshot({ path: file });
  return file;
}

function watch(p) {
  p.on("dialog", async (d) => {
    dialogs.push(d.message());
    await d.dismiss().catch(() => {});
  });
  p.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
  p.on("console", (m) => {
    const t = m.text();
    if (m.type() === "error" || /Content Security Policy|Refused to/i.test(t)) problems.push(`console ${m.type()}: ${t}`);
  });
}

/** Waits until the results on screen belong to the current input. */
/** Waits until `fn(arg)` holds in page `p`, polled on a timer: a page's animation frames (the
 * default polling) can stop while another page of the context is in front, and then a condition
 * that became true is never seen. */
function until(p, fn, arg = null, opts = {}) {
  return p.waitForFunction(fn, arg, { polling: 50, ...opts });
}

async function settled(p = page, timeout = 20000) {
  await p.waitForFunction(() => window.eqlitePlayground && window.eqlitePlayground.settled, null, { timeout, polling: 50 });
}

const events = () => page.getByLabel("Events", { exact: true });
const results = () => page.getByRole("region", { name: "Results" });
const firedList = () => results().getByRole("list", { name: "Rules that fired" });
const missedList = () => results().getByRole("list", { name: "Rules that did not fire" });
/** The list item of a rule, by its exact name. */
const itemOf = (list, name) => list.getByRole("listitem").filter({ has: page.getByText(name, { exact: true }) });

/** Opens a result item (a <details>) unless it is open already; returns its <details>. */
async function expand(item) {
  const det = item.locator("details.hit-det");
  if ((await det.getAttribute("open")) === null) await item.locator("summary.hit-sum").click();
  assert.equal(await det.getAttribute("open"), "");
  assert.equal(await det.evaluate((d) => d.open), true);
  return det;
}

/** Shares the page's state, opens the link in a new page and waits for it to hold `text`. */
async function reopenShared(text) {
  await page.getByRole("button", { name: "Share link" }).click();
  await until(page, () => location.hash.startsWith("#s="));
  const url = page.url();
  const p2 = await context.newPage();
  watch(p2);
  await openPage(p2);
  await p2.goto(url);
  await until(p2, (t) => document.getElementById("events").value === t, text);
  await settled(p2);
  return p2;
}

async function openPage(p) {
  await p.goto(server.url);
  await until(p, () => document.getElementById("engine-status").classList.contains("ok"), null, { timeout: 30000 });
  await settled(p);
}

describe("playground page", () => {
  before(async () => {
    fs.mkdirSync(shots, { recursive: true });
    for (const f of fs.readdirSync(shots)) if (/^\d\d-[\w-]+\.png$/.test(f)) fs.rmSync(path.join(shots, f));
    tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), "eqlite-www-"));
    fs.cpSync(wwwDir, tmpRoot, { recursive: true, filter: (src) => path.relative(wwwDir, src).split(path.sep)[0] !== "pkg" });
    fs.cpSync(pkgDir, path.join(tmpRoot, "pkg"), { recursive: true });
    server = await serve({ root: tmpRoot, port: 0 });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
    });
    context = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: "light" });
    page = await context.newPage();
    watch(page);
    await openPage(page);
    await shot("empty");
  });

  after(async () => {
    if (browser) await browser.close();
    if (server) await server.close();
    if (tmpRoot) fs.rmSync(tmpRoot, { recursive: true, force: true });
  });

  test("the server sends the MIME types the page needs and refuses to leave its directory", async () => {
    const wasm = await fetch(new URL("pkg/eqlite_bg.wasm", server.url));
    assert.equal(wasm.headers.get("content-type"), "application/wasm");
    const js = await fetch(new URL("worker.js", server.url));
    assert.match(js.headers.get("content-type"), /^text\/javascript/);
    const html = await fetch(server.url);
    assert.match(html.headers.get("content-type"), /^text\/html/);
    for (const bad of ["/../package.json", "/%2e%2e/%2e%2e/etc/passwd", "/pkg/..%2f..%2fetc%2fpasswd", "/..%5c..%5cetc%5cpasswd"]) {
      const res = await fetch(server.url.replace(/\/$/, "") + bad);
      assert.ok(res.status === 403 || res.status === 404 || res.status === 400, `${bad} → ${res.status}`);
    }
  });

  test("an attack event fires the kubelet rule, with the deciding value and pattern per clause", async () => {
    await events().fill(JSON.stringify(attackEvent(), null, 2));
    await settled();
    const item = itemOf(firedList(), RULE_D4C);
    await item.waitFor();
    assert.match(await item.innerText(), /high/i);
    assert.match(await item.innerText(), /event #1/);
    await expand(item);
    const decisive = item.locator(".cdetail").filter({ hasText: "https://10.0.0.12:10250/pods" });
    await decisive.first().waitFor();
    const text = await decisive.first().innerText();
    assert.ok(text.includes("process.args"), text);
    assert.ok(text.includes("https://10.0.0.12:10250/pods"), text);
    assert.ok(text.includes("http*:10250*"), text);
    // Every clause coloured and marked (not by colour alone).
    const leaves = item.locator("pre.query-view .cl.leaf");
    assert.ok((await leaves.count()) >= 5);
    assert.equal(await item.locator("pre.query-view .cl.leaf.r-true").count(), await leaves.count());
    assert.equal(await item.locator("pre.query-view .cl.leaf.r-true .mk").first().innerText(), "✓");
    await shot("attack-fired-explained");
    // The summary reports the count and the time.
    assert.match(await page.locator("#summary").innerText(), /1 event .*ms/);
  });

  test("a benign event clears the alert; the rule is a near miss with its first failing clause", async () => {
    await events().fill(JSON.stringify(benignEvent(), null, 2));
    await settled();
    assert.equal(await itemOf(firedList(), RULE_D4C).count(), 0);
    const miss = itemOf(missedList(), RULE_D4C);
    await miss.waitFor();
    assert.match(await miss.innerText(), /process\.args like/);
    await expand(miss);
    const callout = miss.locator(".first-fail-callout");
    await callout.waitFor();
    const c = await callout.innerText();
    assert.match(c, /first failing clause/i);
    assert.match(c, /process\.args like/);
    assert.equal(await miss.locator("pre.query-view .cl.first-fail.r-false").count(), 1);
    assert.ok((await miss.locator(".cnode.first-fail").innerText()).includes("https://10.0.0.12:10251/healthz"));
    await shot("benign-near-miss");
  });

  test("a sample from the menu loads events and shows a sequence alert stage by stage", async () => {
    await page.locator("#samples-menu > summary").click();
    await page.locator("#samples-list").getByRole("button", { name: /Service-account token read, then an API request/ }).click();
    await settled();
    assert.match(await events().inputValue(), /serviceaccount\/token/);
    const item = itemOf(firedList(), RULE_SEQ);
    await item.waitFor();
    assert.match(await item.innerText(), /events #1, #2/);
    await expand(item);
    await item.locator(".member").nth(1).waitFor();
    const members = await item.locator(".member").allInnerTexts();
    assert.match(members[0], /Stage 1/i);
    assert.match(members[0], /Event #1/);
    assert.match(members[1], /Stage 2/i);
    assert.match(members[1], /Event #2/);
    await shot("sample-sequence");
  });

  test("every sample fires what it promises (benign ones fire nothing)", async () => {
    const { SAMPLES } = await import(pathToFileURL(path.join(wwwDir, "samples.js")).href);
    assert.ok(SAMPLES.length >= 8);
    assert.ok(SAMPLES.some((s) => s.kind === "benign") && SAMPLES.some((s) => s.kind === "sequence"));
    for (const s of SAMPLES) {
      await page.locator("#samples-menu > summary").click();
      await page.locator(`#samples-list button[data-sample="${s.id}"]`).click();
      await settled();
      const fired = await page.locator(".hits:not(.misses) .hit-name").allInnerTexts();
      assert.deepEqual(fired.slice().sort(), s.expect.slice().sort(), s.id);
      if (s.kind === "benign") assert.equal(fired.length, 0, s.id);
    }
  });

  test("a bad custom EQL query shows its line:column and underlines the span", async () => {
    const bad = 'process where process.name === "x"';
    const [expected] = eqlite.check(bad);
    assert.ok(expected, "the engine rejects the query");
    const editor = page.getByLabel("Your rule", { exact: true });
    await editor.fill(bad);
    await settled();
    const diag = page.locator("#custom-diag");
    await diag.locator(".diag-item").first().waitFor();
    const d = await diag.innerText();
    assert.ok(d.includes(`${expected.line}:${expected.column}`), d);
    assert.ok(d.includes(expected.message.slice(0, 20)), d);
    const under = diag.locator(".diag-snippet .under");
    assert.equal(await under.innerText(), bad.slice(expected.startUtf16, Math.max(expected.endUtf16, expected.startUtf16 + 1)));
    assert.equal(await page.locator("#custom-backdrop mark.err-under").count(), 1);
    assert.equal(await editor.getAttribute("aria-invalid"), "true");
    await shot("custom-query-error");

    // Fixed, it is evaluated at once as the draft rule.
    await events().fill(JSON.stringify(attackEvent()));
    await editor.fill('process where process.name == "curl" and process.args : "*:10250*"');
    await settled();
    await diag.locator(".diag-ok").waitFor();
    await itemOf(firedList(), "Draft query").waitFor();
    await shot("custom-query-fires");
    await editor.fill("");
    await settled();
  });

  test("Show me fills Events with events that fire a pack rule and a custom rule; near misses are one click away", async () => {
    assert.equal(typeof eqlite.Engine.prototype.synth, "function", "the npm package has engine.synth");
    const showMe = async (ruleId) => {
      const li = page.locator(`#rule-list li.rule[data-rule="${ruleId}"]`);
      const det = li.locator("details.rule-det");
      if ((await det.getAttribute("open")) === null) await li.locator("summary.rule-sum").click();
      await li.getByRole("button", { name: "Show me" }).click();
      await li.locator(".synth-near li").first().waitFor();
      await settled();
      return li;
    };
    // A pack rule: the synthesized event fires it, and a near miss does not.
    const li = await showMe(RULE_D4C_ID);
    const text = await events().inputValue();
    assert.ok(JSON.parse(text).process.args, text);
    await itemOf(firedList(), RULE_D4C).waitFor();
    await shot("show-me-pack-rule");
    const near = li.locator(".synth-near button");
    assert.ok((await near.count()) >= 3, "near misses listed");
    await near.nth(1).click();
    await settled();
    assert.equal(await itemOf(firedList(), RULE_D4C).count(), 0, "the near miss does not fire");
    await itemOf(missedList(), RULE_D4C).waitFor();

    // The analyst's own rule (a sequence): its events fire it.
    const editor = page.getByLabel("Your rule", { exact: true });
    await editor.fill('sequence by host.id with maxspan=1m [process where process.name == "cat" and process.args : "*/token"] [network where destination.port == 443]');
    await settled();
    await showMe("draft");
    assert.equal((await events().inputValue()).match(/"@timestamp"/g).length, 2);
    await itemOf(firedList(), "Draft query").waitFor();
    await shot("show-me-custom-rule");
    await editor.fill("");
    await settled();
  });

  test("an XSS payload in events and rules is shown as text, never run", async () => {
    const payload = "<img src=x onerror=alert(1)>";
    const script = "<script>alert(2)</script>";
    const ev = attackEvent(["curl", "-sk", `https://10.0.0.12:10250/pods?${payload}`, script]);
    ev.orchestrator.resource.name = `pod-${payload}`;
    ev.container.name = script;
    await events().fill(JSON.stringify(ev));
    // A rule whose name and description carry markup too.
    const toml = [
      "[rule]",
      'rule_id = "xss-test-rule"',
      `name = "XSS ${payload}"`,
      `description = "${script}"`,
      'risk_score = 99',
      'severity = "critical"',
      'type = "eql"',
      'language = "eql"',
      "query = '''",
      'process where process.args : "*<img*"',
      "'''",
    ].join("\n");
    await page.getByLabel("Your rule", { exact: true }).fill(toml);
    await settled();
    const item = itemOf(firedList(), RULE_D4C);
    await expand(item);
    const detail = item.locator(".cdetail").filter({ hasText: payload });
    await detail.first().waitFor();
    assert.ok((await detail.first().innerText()).includes(`https://10.0.0.12:10250/pods?${payload}`));
    const custom = itemOf(firedList(), `XSS ${payload}`);
    await custom.waitFor();
    await expand(custom);
    await custom.locator(".member").first().waitFor();
    assert.ok((await results().innerText()).includes(script));
    await page.waitForTimeout(300);
    assert.deepEqual(dialogs, [], "no dialog may open");
    assert.equal(await page.locator('img[src="x"]').count(), 0);
    const scripts = await page.evaluate(() => [...document.scripts].map((s) => s.textContent).filter((t) => t.includes("alert")));
    assert.deepEqual(scripts, []);
    assert.equal(await page.evaluate(() => document.querySelectorAll("[onerror]").length), 0);
    await shot("xss-as-text");
    await page.getByLabel("Your rule", { exact: true }).fill("");
    await settled();
  });

  test("an invalid NDJSON line is pointed out by line and column; the valid events are still evaluated", async () => {
    const lines = [JSON.stringify(attackEvent()), '{"event": {"category": ["process"]}, "process": {"name": curl}}', JSON.stringify(benignEvent())];
    const text = lines.join("\n");
    const engine = new eqlite.Engine({});
    engine.loadDefaultRules();
    const expected = engine.evaluateBatch(text);
    assert.equal(expected.errors.length, 1);
    const err = expected.errors[0];
    await events().fill(text);
    await settled();
    const box = page.locator("#input-errors");
    await box.getByText(`Line ${err.line}, column ${err.column}`).waitFor();
    assert.match(await box.innerText(), /1 invalid item/);
    assert.match(await box.innerText(), /item #2/);
    assert.match(await page.locator("#summary").innerText(), /3 events · 1 invalid/);
    await itemOf(firedList(), RULE_D4C).waitFor();
    assert.match(await itemOf(firedList(), RULE_D4C).innerText(), /event #1/);
    assert.equal(await page.locator("#events-backdrop mark.err-under").count(), 1);
    assert.equal(await events().getAttribute("aria-invalid"), "true");
    // Going to the error puts the caret there.
    await box.getByText(`Line ${err.line}, column ${err.column}`).click();
    const want = `Ln ${err.line}, Col ${err.column}`;
    await until(page, (t) => document.getElementById("caret").textContent === t, want, { timeout: 5000 }).catch(() => {});
    assert.equal(await page.locator("#caret").innerText(), want);
    assert.equal(await page.evaluate(() => document.activeElement.id), "events");
    await shot("invalid-ndjson-line");
  });

  test("a truncated NDJSON line is one invalid item; the events around it still alert (issue 14 item 12)", async () => {
    const ev = JSON.stringify(attackEvent());
    const text = [ev, '{"a":', ev, ev].join("\n");
    await events().fill(text);
    await settled();
    assert.match(await page.locator("#summary").innerText(), /^4 events · 1 invalid · \d+ of \d+ rules fired · \d+ alerts?/);
    const item = itemOf(firedList(), RULE_D4C);
    await item.waitFor();
    assert.match(await item.innerText(), /3 alerts/);
    const box = page.locator("#input-errors");
    await box.getByText("Line 2, column 6").waitFor();
    assert.match(await box.innerText(), /1 invalid item — the other 3 events were evaluated/);
    assert.match(await box.innerText(), /EOF while parsing a value/);
    assert.match(await box.innerText(), /item #2/);
    const r = await page.evaluate(() => window.eqlitePlayground.result);
    const d4c = r.fired.find((f) => f.ruleId === RULE_D4C_ID);
    assert.deepEqual(
      d4c.alerts.map((a) => a.events.map((e) => e.position)),
      [[0], [2], [3]],
    );
    assert.equal(await page.locator("#events-form").innerText(), "NDJSON");
    await shot("truncated-ndjson-line");
  });

  test("the page's worker splits every case of the shared table like the library", async () => {
    const table = JSON.parse(fs.readFileSync(path.join(root, "tests/fixtures/split-cases.json"), "utf8"));
    assert.ok(table.cases.length >= 30);
    // Every case through a worker of the page (worker.js, as the page runs it), in one round trip,
    // on the exact text (a text area would turn CRLF into LF); the rendering is the other tests' job.
    const results = await page.evaluate(async (inputs) => {
      const w = new Worker("worker.js", { type: "module" });
      const out = [];
      try {
        await new Promise((resolve, reject) => {
          let i = 0;
          w.onmessage = (e) => {
            const m = e.data;
            if (m.type === "fatal" || m.type === "error") return reject(new Error(m.message));
            if (m.type === "result") out.push({ events: m.events, errors: m.errors, form: m.form, aligned: m.aligned });
            if (m.type !== "ready" && m.type !== "result") return;
            if (i < inputs.length) w.postMessage({ type: "evaluate", seq: i + 1, eventsVersion: i, events: inputs[i++], custom: [], draft: "" });
            else resolve();
          };
        });
      } finally {
        w.terminate();
      }
      return out;
    }, table.cases.map((c) => c.input));
    assert.equal(results.length, table.cases.length);
    table.cases.forEach((c, k) => {
      const r = results[k];
      assert.equal(r.events, c.items.length, c.name);
      if (c.items.length) assert.equal(r.aligned, true, c.name);
      const bad = c.items.map((it, i) => [it, i]).filter(([it]) => !(it.json && it.json.startsWith("{")));
      assert.deepEqual(
        r.errors.map((e) => e.position),
        bad.map(([, i]) => i),
        c.name,
      );
      for (const e of r.errors) {
        const want = c.items[e.position];
        if (want.error) assert.deepEqual([e.line, e.column, e.message], [want.line, want.column, want.error], `${c.name}: item ${e.position}`);
      }
    });
    const form = (name) => results[table.cases.findIndex((c) => c.name === name)].form;
    assert.equal(form("NDJSON"), "ndjson");
    assert.equal(form("one pretty-printed object"), "object");
    assert.equal(form("pretty-printed objects one after another"), "objects");
    assert.equal(form("a pretty-printed array"), "array");
    assert.equal(form("a search response"), "search");
    assert.equal(form("NDJSON with a search response on one line"), "mixed");
    assert.equal(form("empty input"), "empty");
  });

  test("the state travels in the URL fragment", async () => {
    const text = JSON.stringify(attackEvent());
    await events().fill(text);
    await page.getByLabel("Your rule", { exact: true }).fill('process where process.name == "curl"');
    await settled();
    const p2 = await reopenShared(text);
    assert.equal(await p2.getByLabel("Your rule", { exact: true }).inputValue(), 'process where process.name == "curl"');
    await p2.getByRole("region", { name: "Results" }).getByText("Draft query", { exact: true }).waitFor();
    await p2.close();
    await page.getByLabel("Your rule", { exact: true }).fill("");
    await settled();
  });

  test("a sequence that did not fire says, per join key, how far it got", async () => {
    const ev = (s, category, host) => JSON.stringify({ "@timestamp": `2026-12-01T10:00:${s}Z`, event: { category }, host: { id: host } });
    // h1: a file event falls in the missing-event gap; h2: its network event comes 2.5 s too late.
    const text = [ev("00", "process", "h1"), ev("01", "file", "h1"), ev("02", "network", "h1"), ev("00", "process", "h2"), ev("12.5", "network", "h2")].join("\n");
    await events().fill(text);
    await page.getByLabel("Your rule", { exact: true }).fill("sequence by host.id with maxspan=10s [process where true] ![file where true] [network where true]");
    await settled();
    const item = itemOf(missedList(), "Draft query");
    await expand(item);
    const progress = item.getByRole("region", { name: "Sequence progress" });
    await progress.waitFor();
    const t = await progress.innerText();
    assert.match(t, /per host\.id \(events in @timestamp order\)/);
    assert.match(t, /h1: stage 1 #1; #2 matched missing-event stage 2, which excludes the match/);
    assert.match(t, /h2: stage 1 #4; #5 would fill stage 3 but comes 2,500 ms after maxspan/);
    // The file event matches the missing-event stage: it prevents the sequence, it is no match.
    assert.match(await item.locator("summary .hit-sub").innerText(), /stage 2 #2 prevents/);
    assert.equal(await item.locator(".verdict", { hasText: "prevents the match" }).count(), 1);
    await shot("sequence-progress");
    // A clause that fails only by case says which operator would match; null operands are named.
    await events().fill(JSON.stringify({ "@timestamp": "2026-12-01T10:00:00Z", event: { category: "process" }, process: { name: "KubeletCtl" } }));
    await page.getByLabel("Your rule", { exact: true }).fill('process where process.name == "kubeletctl" and process.parent.name == "sshd"');
    await settled();
    const caseItem = itemOf(missedList(), "Draft query");
    await expand(caseItem);
    const body = await caseItem.innerText();
    assert.match(body, /"KubeletCtl" would match "kubeletctl" with `:` or `in~` \(only the case differs\)/);
    assert.match(body, /1 false, 1 null: `process\.parent\.name` is missing/);
    await page.getByLabel("Your rule", { exact: true }).fill("");
    await events().fill("");
    await settled();
  });

  test("a case saved from pasted events travels in the share link, passes, and fails once the event changes", async () => {
    const text = JSON.stringify(attackEvent());
    await events().fill(text);
    await settled();
    const tests = page.getByRole("region", { name: "Tests" });
    await tests.getByLabel("Rule", { exact: true }).selectOption({ label: RULE_D4C });
    await tests.getByLabel("Case name", { exact: true }).fill("curl to the kubelet");
    await tests.getByRole("button", { name: "Save these events as a case" }).click();
    await settled();
    const cases = () => tests.getByRole("list", { name: `Cases of ${RULE_D4C}` });
    // The expectation comes from the verdict: the rule fired, so the case expects it to.
    assert.equal(await cases().getByLabel("Expectation of curl to the kubelet").inputValue(), "fires");
    await until(page, () => document.getElementById("tests-summary").textContent === "1 of 1 passed");
    // The case file offered for download is one `eqlite test` reads: the engine runs it the same.
    const [download] = await Promise.all([page.waitForEvent("download"), tests.getByRole("link", { name: "Download case file" }).click()]);
    assert.equal(download.suggestedFilename(), `${RULE_D4C_ID}.tests.toml`);
    const caseFile = fs.readFileSync(await download.path(), "utf8");
    const engine = new eqlite.Engine();
    engine.loadDefaultRules();
    const report = engine.test(caseFile);
    assert.deepEqual(report.cases.map((c) => [c.name, c.passed]), [["curl to the kubelet", true]]);
    // The query is shown with the conditions no case made decisive marked, as the engine counts them.
    const uncovered = report.conditions.filter((c) => c.decisiveIn.length === 0 && !c.excused);
    assert.equal(await tests.locator("pre.coverage-view mark.uncovered").count(), uncovered.length);
    assert.equal(await tests.locator(".test-coverage").innerText(), `coverage ${Math.round(report.coverage * 10) / 10}%`);
    const p2 = await reopenShared(text);
    const tests2 = p2.getByRole("region", { name: "Tests" });
    await until(p2, () => document.getElementById("tests-summary").textContent === "1 of 1 passed");
    await tests2.getByRole("list", { name: `Cases of ${RULE_D4C}` }).getByText("curl to the kubelet", { exact: true }).waitFor();
    await shot("tests-case-passes", p2);
    // Editing the case's event (port 10251: no kubelet) re-runs it: it fails, with the deciding clause.
    await tests2.locator("details.test-edit summary").click();
    await tests2.getByLabel("Events of curl to the kubelet").fill(JSON.stringify(benignEvent()));
    await until(p2, () => document.getElementById("tests-summary").textContent === "0 of 1 passed");
    const why = await tests2.locator(".test-case.fail pre.test-why").innerText();
    assert.match(why, /got no alert/);
    assert.match(why, /deciding clause: /);
    assert.match(why, /\^/);
    await shot("tests-case-fails", p2);
    // Changing the expectation to match makes it pass again.
    await tests2.getByLabel("Expectation of curl to the kubelet").selectOption("silent");
    await until(p2, () => document.getElementById("tests-summary").textContent === "1 of 1 passed");
    await p2.close();
    engine.free();
  });

  test("dark mode renders the same results", async () => {
    const dark = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: "dark" });
    const p = await dark.newPage();
    watch(p);
    await openPage(p);
    await p.locator("#samples-menu > summary").click();
    await p.locator("#samples-list").getByRole("button", { name: /Benign: python3, then an API call/ }).click();
    await settled(p);
    const list = p.getByRole("region", { name: "Results" }).getByRole("list", { name: "Rules that did not fire" });
    const name = "Direct Interactive Kubernetes API Request by Unusual Utilities";
    const item = list.getByRole("listitem").filter({ has: p.getByText(name, { exact: true }) });
    await item.locator("summary.hit-sum").click();
    await item.locator(".callout").waitFor();
    assert.match(await item.innerText(), /every stage/i);
    const bg = await p.evaluate(() => getComputedStyle(document.body).backgroundColor);
    assert.notEqual(bg, "rgb(238, 241, 245)", "dark background");
    await shot("dark-sequence-near-miss", p);
    await dark.close();
  });

  test("a 10 MB paste is evaluated off the main thread without freezing the tab", { skip: process.env.EQLITE_SKIP_LARGE === "1" }, async () => {
    const line = JSON.stringify(attackEvent());
    const n = Math.ceil((10 * 1024 * 1024) / (line.length + 1));
    const t0 = Date.now();
    // Built in the page and pasted into Events (a paste event carrying the text, as Ctrl+V does).
    await events().fill("");
    await events().focus();
    await page.evaluate(
      ({ line, n }) => {
        const ta = document.getElementById("events");
        const parts = new Array(n);
        for (let i = 0; i < n; i++) parts[i] = line.replace('"pid":622', `"pid":${1000 + i}`);
        const data = new DataTransfer();
        data.setData("text/plain", parts.join("\n"));
        ta.dispatchEvent(new ClipboardEvent("paste", { clipboardData: data, bubbles: true, cancelable: true }));
      },
      { line, n },
    );
    // The main thread answers while the worker is busy.
    const probes = [];
    for (let i = 0; i < 5; i++) {
      const s = Date.now();
      await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => r())));
      probes.push(Date.now() - s);
      await page.waitForTimeout(200);
    }
    await page.locator("#summary").getByText(new RegExp(`^${n.toLocaleString("en-US")} events`)).waitFor({ timeout: 180000 });
    await settled(page, 180000);
    const took = Date.now() - t0;
    assert.ok(Math.max(...probes) < 1000, `main thread blocked: ${probes.join(", ")} ms`);
    // The text area shows the beginning only; all of it was evaluated.
    await page.locator("#events-large").getByText(/Large input: 10\.0 MB/).waitFor();
    assert.ok((await events().inputValue()).length < 200 * 1024);
    const item = itemOf(firedList(), RULE_D4C);
    assert.match(await item.innerText(), new RegExp(`${n.toLocaleString("en-US")} alerts`));
    // Rendering is capped.
    await expand(item);
    const chips = await item.locator(".alert-pick .chip").count();
    assert.ok(chips <= 200, `${chips} alert chips`);
    await item.locator(".member").first().waitFor();
    await shot("large-paste-10mb");
    console.log(`# 10 MB paste: ${n} events, ${took} ms until results; rAF probes ${probes.join(", ")} ms`);
  });

  test("no CSP violations, page errors or console errors", () => {
    assert.deepEqual(problems, []);
    assert.ok(RULE_D4C_ID);
  });
});
