// The built package, imported exactly as a user would (a file: dependency on pkg/), in Node.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { Engine, check, version } from "eqlite";

const fixtures = (name) => JSON.parse(readFileSync(new URL(`../../fixtures/kubelet/${name}.json`, import.meta.url)));

test("a kubelet attack fires the Defend for Containers rule; the benign case does not", () => {
  const engine = new Engine();
  assert.equal(engine.loadDefaultRules(), 20);
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

test("explanations answer the analyst's next question: case, nulls, timestamp field, missing stages, sequence progress", () => {
  const engine = new Engine();
  engine.addRuleToml(`[rule]
rule_id = "fc552f49-8f1c-409b-90f8-6f5b9869b6c4"
name = "Elastic Defend Alert Followed by Telemetry Loss"
language = "eql"
severity = "high"
risk_score = 73
timestamp_override = "event.ingested"
query = '''
sequence by host.id with maxspan=5m
 [any where data_stream.dataset == "endpoint.alerts"]
 ![any where event.category in ("process", "library", "registry", "network", "dns", "file")]
'''
`);
  engine.addQuery("kubeletctl", 'process where process.name == "kubeletctl" and process.parent.name == "sshd"');
  const ev = (at, host, dataset, category, ingested) =>
    JSON.stringify({ "@timestamp": `2026-11-30T${at}Z`, event: { category: [category], dataset, ...(ingested ? { ingested } : {}) }, data_stream: { dataset }, host: { id: host } });
  // As an export lists them: telemetry first, then the alerts.
  const lines = [
    ev("10:21:00", "a-3", "endpoint.events.process", "process"),
    ev("10:00:00", "b-7", "endpoint.alerts", "malware", "2026-11-30T10:00:02Z"),
    ev("10:20:00", "a-3", "endpoint.alerts", "malware"),
  ];
  const rule = "fc552f49-8f1c-409b-90f8-6f5b9869b6c4";
  const batch = engine.evaluateBatch(lines.join("\n"));
  assert.deepEqual(batch.alerts.map((a) => [a.ruleId, a.events]), [[rule, [1]]]);
  const [stage] = engine.explainAlert(batch.alerts[0], [lines[1]]);
  assert.equal(stage.timestampField, "event.ingested");

  const [telemetry] = engine.explain(lines[0], rule);
  assert.deepEqual([telemetry.matched, telemetry.prevents, telemetry.explanations[1].prevents], [false, true, true]);

  const progress = engine.sequenceProgress(rule, lines.join("\n"));
  assert.equal(progress.timestampField, "event.ingested, else @timestamp");
  const a3 = progress.keys.find((k) => k.key[0] === "a-3");
  assert.deepEqual([a3.fired, a3.filled, a3.stopped], [false, [{ stage: 0, event: 2 }], { kind: "missing", stage: 1, event: 0 }]);
  assert.equal(progress.keys.find((k) => k.key[0] === "b-7").fired, true);

  const [proc] = engine.explain({ event: { category: "process" }, process: { name: "KubeletCtl" } }, "kubeletctl");
  const and = proc.explanations[0].children[1];
  assert.equal(and.reason, "1 false, 1 null: `process.parent.name` is missing");
  assert.deepEqual(and.children[0].caseOnly, { value: "KubeletCtl", pattern: "kubeletctl" });
  assert.match(and.children[0].reason, /"KubeletCtl" would match "kubeletctl" with `:` or `in~`/);
});
