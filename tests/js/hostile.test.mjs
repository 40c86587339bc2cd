// Hostile input through the built npm package (pkg/, `bash scripts/build-wasm.sh`), in Node:
// JavaScript objects a page may hand over (`__proto__` keys, getters that throw, proxies, cycles,
// a polluted Object.prototype), and a 100 MB paste, whose memory must stay bounded.
// Run: node --test tests/js/hostile.test.mjs
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { Engine, check, initSync, splitEvents } from "../../pkg/node.js";

const wasm = initSync(); // already initialised by node.js: returns the instance's exports
const fixture = (name) => JSON.parse(readFileSync(new URL(`../fixtures/kubelet/${name}.json`, import.meta.url)));
const CURL = '{"event":{"category":"process"},"process":{"name":"curl"}}';

function engine(query) {
  const e = new Engine();
  e.addQuery("q", query);
  e.addQuery("curl", 'process where process.name == "curl"');
  return e;
}
const ids = (alerts) => alerts.map((a) => a.ruleId);
/** The engine still answers, correctly: no trap, no borrow left behind by an exception. */
function stillWorks(e) {
  assert.ok(ids(e.evaluate(CURL)).includes("curl"));
  assert.ok(!ids(e.evaluate({ process: { name: "wget" } })).includes("curl"));
}
function throwsError(fn, pattern) {
  assert.throws(fn, (err) => {
    assert.ok(err instanceof Error, `not an Error: ${err}`);
    assert.match(err.message, pattern);
    return true;
  });
}

test("__proto__ keys are ordinary fields; inherited properties are not read", () => {
  const e = engine("any where __proto__.x == 1");
  assert.deepEqual(ids(e.evaluate(JSON.parse('{"__proto__":{"x":1}}'))), ["q"]);
  assert.deepEqual(ids(e.evaluate('{"__proto__":{"x":1}}')), ["q"]);
  // An object literal's __proto__ sets the prototype: not an own property, not a field.
  assert.deepEqual(ids(e.evaluate({ __proto__: { x: 1 } })), []);
  assert.deepEqual(ids(e.evaluate(Object.create({ __proto__: { x: 1 } }))), []);
  // Nothing leaked into Object.prototype, and results are plain objects with the documented keys.
  assert.equal({}.x, undefined);
  const [alert] = e.evaluate(JSON.parse('{"__proto__":{"x":1}}'));
  assert.equal(Object.getPrototypeOf(alert), Object.prototype);
  assert.deepEqual(Object.keys(alert).sort(), ["events", "riskScore", "ruleId", "ruleName", "severity"]);
  const [report] = e.explain(JSON.parse('{"__proto__":{"x":1}}'), "q");
  assert.equal(report.matched, true);
  assert.equal(Object.getPrototypeOf(report.explanations[0]), Object.prototype);
  const items = splitEvents('{"__proto__":{"polluted":1}}\n{"constructor":{"prototype":{"polluted":1}}}');
  assert.equal(items.length, 2);
  assert.equal({}.polluted, undefined);
  stillWorks(e);
});

test("a polluted Object.prototype does not change options, metadata or events", () => {
  Object.prototype.categoryField = "evil";
  Object.prototype.severity = "low";
  Object.prototype.process = { name: "curl" };
  try {
    const e = new Engine({});
    e.addQuery("p", "process where true", {});
    assert.deepEqual(ids(e.evaluate('{"event":{"category":"process"}}')), ["p"]);
    assert.deepEqual(ids(e.evaluate('{"evil":"process"}')), []);
    assert.equal(e.rules()[0].severity, "medium");
    const c = engine("any where true");
    assert.deepEqual(ids(c.evaluate({})), ["q"], "an inherited process.name is not read");
  } finally {
    delete Object.prototype.categoryField;
    delete Object.prototype.severity;
    delete Object.prototype.process;
  }
});

test("getters that throw, proxies, cycles and BigInts are Errors, and the engine keeps working", () => {
  const e = engine("any where a == 1");
  const hostile = [
    [{ get a() { throw new Error("boom"); } }, /invalid event: boom/],
    [new Proxy({}, { ownKeys() { throw new Error("no keys"); } }), /invalid event: no keys/],
    [new Proxy({ a: 1 }, { get() { throw new Error("no get"); } }), /invalid event/],
    [(() => { const o = { a: 1 }; o.self = o; return o; })(), /circular/],
    [{ a: 1n }, /BigInt/],
    [{ toJSON() { throw new Error("toJSON"); } }, /toJSON/],
  ];
  for (const [ev, pattern] of hostile) {
    throwsError(() => e.evaluate(ev), pattern);
    throwsError(() => e.push(ev), pattern);
    throwsError(() => e.explain(ev), pattern);
    stillWorks(e);
  }
  // In a batch, each such item is one error; the others are evaluated.
  const r = e.evaluateBatch([{ a: 1 }, hostile[0][0], hostile[3][0], { a: 1 }]);
  assert.deepEqual(r.alerts.map((a) => a.events), [[0], [3]]);
  assert.deepEqual(r.errors.map((x) => x.position), [1, 2]);
  // A batch array whose elements cannot be read.
  const trap = new Proxy([{ a: 1 }, { a: 1 }], { get(t, k) { if (k === "1") throw new Error("trap"); return t[k]; } });
  const t = e.evaluateBatch(trap);
  assert.equal(t.alerts.length, 1);
  assert.equal(t.errors.length, 1);
  // Options, metadata and alerts given as hostile objects.
  throwsError(() => new Engine({ get categoryField() { throw new Error("opt"); } }), /invalid options: opt/);
  throwsError(() => e.addQuery("m", "any where true", { get name() { throw new Error("meta"); } }), /invalid metadata: meta/);
  throwsError(() => e.explainAlert({ get ruleId() { throw new Error("al"); } }, []), /invalid alert: al/);
  stillWorks(e);
  // Dates and other objects with toJSON are read as their JSON form.
  const d = engine('any where a == "2026-01-01T00:00:00.000Z"');
  assert.deepEqual(ids(d.evaluate({ a: new Date(Date.UTC(2026, 0, 1)) })), ["q"]);
});

test("the deepest query the limits allow runs in the release build; one level more is an error", () => {
  const q = `any where ${"(".repeat(32)}a == 1${")".repeat(32)}`;
  assert.deepEqual(check(q), []);
  assert.deepEqual(ids(engine(q).evaluate('{"a":1}')), ["q"]);
  const over = `any where ${"(".repeat(33)}a == 1${")".repeat(33)}`;
  assert.match(check(over)[0].message, /more than 32 levels deep/);
  throwsError(() => engine("any where true").addQuery("x", over), /more than 32 levels deep/);
  const err = (() => { try { engine("any where true").addQuery("x", over); } catch (e) { return e; } })();
  assert.equal(typeof err.line, "number");
  assert.equal(typeof err.startUtf16, "number");
  assert.match(err.rendered, /\^/);
  // Patterns designed to blow up.
  const a50k = JSON.stringify({ a: "a".repeat(50_000) });
  for (const p of ['a regex "(a+)+b"', 'a like "*a*a*a*a*a*a*a*b"', 'a regex~ "(a|aa)*b"']) {
    const t = performance.now();
    assert.deepEqual(ids(engine(`any where ${p}`).evaluate(a50k)), [], p);
    assert.ok(performance.now() - t < 2000, `${p} took ${performance.now() - t} ms`);
  }
  throwsError(() => engine("any where true").addQuery("x", `any where a regex "a${"*".repeat(100_000)}"`), /nests more than 256/);
});

// A paste of 100 MB of NDJSON: the smallest events that make two kubelet rules fire each, so that
// the batch holds the most alerts (840,000) a 100 MB paste can make with the default rules.
test("a 100 MB paste: bounded wasm memory, every alert, no crash", { timeout: 600_000 }, () => {
  const event = {
    container: { id: "ac481fadac556e4b380a3482ea359f9fbaeb7914e4687b78d6eac1be62213f4e" },
    event: { action: "exec", category: ["process"], type: ["start"] },
    host: { os: { type: "linux" } },
    process: { args: ["http://10.0.1.22:10255/pods"], name: "wget" },
  };
  const probe = new Engine();
  probe.loadDefaultRules();
  const perEvent = probe.evaluate(event).length;
  assert.equal(perEvent, 2);
  const line = JSON.stringify(event);
  const count = Math.ceil((100 << 20) / (line.length + 1));
  const text = (line + "\n").repeat(count);
  assert.ok(text.length >= 100 << 20);

  const e = new Engine();
  e.loadDefaultRules();
  const before = wasm.memory.buffer.byteLength;
  const r = e.evaluateBatch(text);
  const after = wasm.memory.buffer.byteLength;
  assert.equal(r.events, count);
  assert.equal(r.errors.length, 0);
  assert.equal(r.alerts.length, count * perEvent);
  assert.deepEqual(r.alerts.at(-1).events, [count - 1]);
  // The text is copied into wasm memory once (as UTF-8); the rest must stay small. Documented
  // bound: wasm memory grows by less than twice the paste's UTF-8 size.
  console.log(`100 MB paste: ${count} events, ${r.alerts.length} alerts, wasm memory ${(before / 2 ** 20).toFixed(0)} MB -> ${(after / 2 ** 20).toFixed(0)} MB`);
  assert.ok(after - before < 2 * text.length, `wasm memory grew by ${after - before} bytes`);
  assert.equal(e.evaluate(event).length, 2, "the engine still works");
  // Memory is reused: a second paste does not grow it further.
  assert.equal(e.evaluateBatch(text).alerts.length, count * perEvent);
  assert.ok(wasm.memory.buffer.byteLength - after < text.length / 2);
});

test("a 100 MB non-ASCII paste: wasm memory grows by less than twice its UTF-8 size", { timeout: 600_000 }, () => {
  // A plain string argument would reserve 3 bytes per UTF-16 unit in wasm memory while it is
  // copied in; evaluateBatch copies large texts at their exact UTF-8 size (200 MB here).
  const line = JSON.stringify({ message: "é".repeat(200), process: { name: "ñ" } });
  const text = (line + "\n").repeat(Math.ceil((100 << 20) / (line.length + 1)));
  const e = engine("any where true");
  const before = wasm.memory.buffer.byteLength;
  const r = e.evaluateBatch(text);
  const after = wasm.memory.buffer.byteLength;
  console.log(`100 MB non-ASCII paste: wasm memory ${(before / 2 ** 20).toFixed(0)} MB -> ${(after / 2 ** 20).toFixed(0)} MB`);
  assert.equal(r.errors.length, 0);
  assert.ok(after - before < 2 * Buffer.byteLength(text), `wasm memory grew by ${after - before} bytes`);
  stillWorks(e);
});

test("garbage pastes are reported item by item", () => {
  const e = engine("any where a == 1");
  const text = ['{"a":1}', "\u0000\u0001garbage", `{"a":${"[".repeat(10_000)}1${"]".repeat(10_000)}}`, '{"a":1e400}', '{"a":1}'].join("\n");
  const r = e.evaluateBatch(text);
  assert.deepEqual(r.alerts.map((a) => a.events), [[0], [4]]);
  assert.equal(r.errors.length, 3);
  for (const x of r.errors) assert.ok(x.message.length > 0 && x.line > 0);
  const over = JSON.stringify({ m: "x".repeat(16 << 20) });
  throwsError(() => e.evaluate(over), /the limit is 16777216 bytes/);
  throwsError(() => e.evaluate({ m: "x".repeat(16 << 20) }), /the limit is 16777216 bytes/);
  stillWorks(e);
});
