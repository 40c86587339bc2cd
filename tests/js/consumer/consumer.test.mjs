// The built package, imported exactly as a user would (a file: dependency on pkg/), in Node.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { Engine, check, version } from "eqlite";

const fixtures = (name) => JSON.parse(readFileSync(new URL(`../../fixtures/kubelet/${name}.json`, import.meta.url)));

test("a kubelet attack fires the Defend for Containers rule; the benign case does not", () => {
  const engine = new Engine();
  assert.equal(engine.loadDefaultRules(), 16);
  const fx = fixtures("direct_kubelet_access_d4c");
  for (const c of fx.cases) {
    const fired = engine.evaluate(c.events[0]).some((a) => a.ruleId === fx.rule_id);
    assert.equal(fired, c.fires, c.name);
  }
});

test("the pod-discovery sequence fires through push() on its fifth run", () => {
  const engine = new Engine();
  engine.loadDefaultRules();
  const fx = fixtures("kubelet_pod_discovery");
  const attack = fx.cases.find((c) => c.fires && !c.alert_events);
  const alerts = [];
  for (const e of attack.events) alerts.push(...engine.push(JSON.stringify(e)));
  alerts.push(...engine.flush());
  const mine = alerts.filter((a) => a.ruleId === fx.rule_id);
  assert.deepEqual(mine.map((a) => a.events), [attack.events.map((_, i) => i)]);
});

test("explanations, diagnostics and errors have the documented shape", () => {
  const engine = new Engine({ categoryField: "event.category" });
  engine.addQuery("q", 'process where process.name == "curl" and process.args like "*:10250*"');
  const [report] = engine.explain({ event: { category: "process" }, process: { name: "curl", args: ["curl", "https://n:10250/"] } });
  assert.equal(report.matched, true);
  const condition = report.explanations[0].children.at(-1);
  assert.equal(condition.kind, "and");
  assert.deepEqual(condition.children[1].decidedBy, { value: "https://n:10250/", pattern: "*:10250*" });
  assert.deepEqual(check("process where true"), []);
  assert.throws(() => engine.addQuery("bad", "process where x ="), (e) => e instanceof Error && e.line === 1 && typeof e.startUtf16 === "number");
  assert.match(version(), /^\d+\.\d+\.\d+$/);
});

test("severity is one of the four labels of the declared Severity type; others are refused", () => {
  const engine = new Engine();
  engine.loadDefaultRules();
  const labels = new Set(engine.rules().map((r) => r.severity));
  assert.ok([...labels].every((s) => ["low", "medium", "high", "critical"].includes(s)), [...labels].join());
  engine.addQuery("q", "process where true", { severity: "critical" });
  assert.equal(engine.evaluate({ event: { category: "process" } }).find((a) => a.ruleId === "q").severity, "critical");
  assert.throws(() => engine.addQuery("bad", "process where true", { severity: "urgent" }), /severity must be one of low, medium, high, critical/);
  const toml = '[rule]\nrule_id = "t"\nlanguage = "eql"\nseverity = "High"\nquery = "process where true"\n';
  assert.throws(() => engine.addRuleToml(toml), (e) => /severity must be one of/.test(e.message) && e.line === 4 && toml.slice(e.startUtf16, e.endUtf16) === '"High"');
  assert.deepEqual(engine.rules().map((r) => r.ruleId).filter((id) => id === "bad" || id === "t"), []);
});
