// The playground's engine, off the main thread. Holds one eqlite Engine (the kubelet pack plus
// the analyst's own rules), evaluates the pasted events and explains the interesting ones.
//
// Messages in:  { type: "evaluate", seq, eventsVersion, events?, custom: string[], draft: string,
//                 tests: { ruleId, name, expect, events }[] }
//               { type: "explain", seq, ruleId, positions: number[] }
//               { type: "synth", seq, ruleId }
// Messages out: { type: "ready", version, rules } | { type: "fatal", message }
//               { type: "result", seq, … } | { type: "explained", seq, … }
//               { type: "synthesized", seq, synthesis: { ruleId, events, nearMisses } }

import init, { Engine, check, checkRuleToml, splitEvents, version } from "./pkg/eqlite.js";
import { byRule, caseFileToml } from "./cases.js";
import { closeness, eventSummary, stageOfMembers, treeLabels } from "./explain-utils.js";

/** Alerts listed per rule. */
const ALERTS_PER_RULE = 200;
/** Near-miss search: at most this many events, and about this much time. */
const NEAR_MISS_EVENTS = 300;
const NEAR_MISS_BUDGET_MS = 350;
/** Sequence progress reads the whole paste once per sequence rule that did not fire: up to here. */
const PROGRESS_EVENTS = 20000;
const PROGRESS_KEYS = 5;
/** Event JSON shown in the page is cut at this many characters. */
const JSON_SHOWN = 16000;
const MAX_MEMBERS = 24;

let engine = null;
let builtinIds = new Set();
let rulesKey = null;
let rulesInfo = [];
let ruleDiagnostics = { custom: [], draft: null };
let idNames = new Map();

let eventsVersion = -1;
let text = "";
let split = null;

function now() {
  return performance.now();
}

function isToml(src) {
  return /^\s*\[[A-Za-z0-9_.\-]+\]\s*$/m.test(src) || /^\s*(rule_id|query|language)\s*=/m.test(src);
}

function diagFromError(err) {
  return {
    message: String(err && err.message ? err.message : err),
    line: err && err.line ? err.line : 1,
    column: err && err.column ? err.column : 1,
    columnUtf16: err && err.columnUtf16 ? err.columnUtf16 : 1,
    startUtf16: err && typeof err.startUtf16 === "number" ? err.startUtf16 : 0,
    endUtf16: err && typeof err.endUtf16 === "number" ? err.endUtf16 : 0,
  };
}

function slimDiag(d) {
  return { message: d.message, line: d.line, column: d.column, columnUtf16: d.columnUtf16, startUtf16: d.startUtf16, endUtf16: d.endUtf16 };
}

/** Adds one custom rule (TOML or bare EQL); returns { kind, ruleId?, diagnostics, overrides? }. */
function addCustom(src, fallbackId, label) {
  const kind = isToml(src) ? "toml" : "eql";
  if (kind === "eql") {
    const diags = check(src).map(slimDiag);
    if (diags.length) return { kind, diagnostics: diags };
    try {
      engine.addQuery(fallbackId, src);
      idNames.set(fallbackId, label);
      return { kind, ruleId: fallbackId, diagnostics: [] };
    } catch (err) {
      return { kind, diagnostics: [diagFromError(err)] };
    }
  }
  const diags = checkRuleToml(src).map(slimDiag);
  if (diags.length) return { kind, diagnostics: diags };
  // A rule with the id of a pack rule replaces it: that is how an analyst tries a tuned rule.
  const m = /^\s*rule_id\s*=\s*["']([^"'\n]+)["']/m.exec(src);
  let overrides = null;
  if (m && builtinIds.has(m[1]) && engine.rules().some((r) => r.ruleId === m[1])) {
    engine.removeRule(m[1]);
    overrides = m[1];
  }
  try {
    const id = engine.addRuleToml(src);
    return { kind, ruleId: id, diagnostics: [], overrides };
  } catch (err) {
    return { kind, diagnostics: [diagFromError(err)] };
  }
}

function buildRules(custom, draft) {
  const key = JSON.stringify([custom, draft]);
  if (key === rulesKey && engine) return;
  if (engine) engine.free();
  engine = new Engine({});
  engine.loadDefaultRules();
  builtinIds = new Set(engine.rules().map((r) => r.ruleId));
  idNames = new Map();
  const origin = new Map();
  ruleDiagnostics = { custom: [], draft: null };
  custom.forEach((src, i) => {
    if (!src.trim()) {
      ruleDiagnostics.custom.push({ kind: "eql", diagnostics: [] });
      return;
    }
    const r = addCustom(src, `custom-${i + 1}`, `Custom query ${i + 1}`);
    if (r.ruleId) origin.set(r.ruleId, { origin: "custom", index: i, overrides: r.overrides });
    ruleDiagnostics.custom.push(r);
  });
  if (draft && draft.trim()) {
    const r = addCustom(draft, "draft", "Draft query");
    if (r.ruleId) origin.set(r.ruleId, { origin: "draft", overrides: r.overrides });
    ruleDiagnostics.draft = r;
  }
  rulesInfo = engine.rules().map((r) => {
    const o = origin.get(r.ruleId);
    return {
      ...r,
      name: idNames.get(r.ruleId) || r.name,
      origin: o ? o.origin : "pack",
      customIndex: o && o.origin === "custom" ? o.index : undefined,
      overrides: o ? o.overrides || null : null,
    };
  });
  rulesKey = key;
}

/**
 * The pasted text's items, as the engine splits them for evaluateBatch (the same splitter, so item
 * i is event position i), and the input's form, for display.
 */
function getSplit() {
  if (!split) {
    const items = splitEvents(text);
    split = { items, form: formOf(items) };
  }
  return split;
}

function formOf(items) {
  if (!items.length) return "empty";
  const origins = new Set(items.filter((it) => !it.error).map((it) => it.origin));
  if (origins.has("hit")) return origins.size === 1 ? "search" : "mixed";
  if (origins.size === 1 && origins.has("element")) return "array";
  if (items.length <= 1) return "object";
  return origins.size === 1 && origins.has("value") ? "objects" : "ndjson";
}

function itemJson(item) {
  return item && !item.error ? item.json : null;
}

function parsedEvent(item) {
  try {
    return JSON.parse(item.json);
  } catch {
    return null;
  }
}

function describe(position) {
  const s = getSplit();
  const item = s.items[position];
  if (!item) return { position, line: 0, title: "(unknown)", detail: "" };
  if (item.error) return { position, line: item.line, title: "invalid item", detail: item.error };
  const ev = parsedEvent(item);
  const sum = eventSummary(ev);
  const where = item.origin === "hit" ? `hit ${item.hit} of the search response, line ${item.line}` : `line ${item.line}`;
  return { position, line: item.line, where, title: sum.title, detail: sum.detail };
}

function prettyJson(item) {
  const ev = parsedEvent(item);
  let out = ev === null ? item.json : JSON.stringify(ev, null, 2);
  let cut = false;
  if (out.length > JSON_SHOWN) {
    out = out.slice(0, JSON_SHOWN);
    cut = true;
  }
  return { json: out, cut };
}

function ruleById(id) {
  return rulesInfo.find((r) => r.ruleId === id);
}

/** Explains one alert: every member event against the rule, with its stage. */
function explainAlert(ruleId, positions) {
  const s = getSplit();
  const rule = ruleById(ruleId);
  const members = [];
  for (const p of positions.slice(0, MAX_MEMBERS)) {
    const item = s.items[p];
    const json = itemJson(item);
    if (json === null) continue;
    let res;
    try {
      res = engine.explain(json, ruleId)[0];
    } catch (err) {
      members.push({ ...describe(p), error: String(err.message || err) });
      continue;
    }
    members.push({ ...describe(p), ...prettyJson(item), trees: res.explanations, matched: res.matched, sequence: res.sequence });
  }
  const sequence = members.some((m) => m.sequence) || (rule && rule.kind !== "event");
  if (sequence && rule && members.length) {
    const withTrees = members.filter((m) => m.trees);
    const labels = treeLabels(rule.query, withTrees[0].trees, true);
    const stages = stageOfMembers(
      withTrees.map((m) => m.trees),
      labels,
    );
    withTrees.forEach((m, i) => {
      m.stage = stages[i];
      m.stageLabel = labels[stages[i]];
    });
  }
  return { ruleId, positions, members, truncated: positions.length > MAX_MEMBERS };
}

/** For rules that did not fire: the event that came closest (per stage for sequences). */
function nearMisses(notFired, started) {
  const s = getSplit();
  const out = new Map();
  if (!notFired.length) return { misses: out, scanned: 0, total: 0 };
  const wanted = new Set(notFired);
  let scanned = 0;
  let total = 0;
  for (let p = 0; p < s.items.length; p++) {
    if (s.items[p].error) continue;
    total++;
  }
  for (let p = 0; p < s.items.length; p++) {
    const json = itemJson(s.items[p]);
    if (json === null) continue;
    if (scanned >= NEAR_MISS_EVENTS || (scanned > 0 && now() - started > NEAR_MISS_BUDGET_MS)) break;
    scanned++;
    let reports;
    try {
      reports = engine.explain(json);
    } catch {
      continue;
    }
    for (const rep of reports) {
      if (!wanted.has(rep.ruleId)) continue;
      let m = out.get(rep.ruleId);
      if (!m) {
        m = { ruleId: rep.ruleId, sequence: rep.sequence, stages: rep.explanations.map(() => null) };
        out.set(rep.ruleId, m);
      }
      rep.explanations.forEach((tree, i) => {
        const score = closeness(tree);
        const cur = m.stages[i];
        // An event matching a missing-event stage prevents the sequence (the core marks it).
        if (!cur || score > cur.score) m.stages[i] = { position: p, score, tree, matched: tree.result === true, prevents: tree.prevents === true };
      });
    }
  }
  for (const [id, m] of out) {
    if (!m.stages.length || m.stages.some((st) => !st)) {
      out.delete(id);
      continue;
    }
    const rule = ruleById(m.ruleId);
    const labels = treeLabels(rule ? rule.query : "", m.stages.map((st) => st.tree), m.sequence);
    m.stages = m.stages.map((st, i) => ({ ...st, label: labels[i], event: describe(st.position), ...prettyJson(s.items[st.position]) }));
    m.score = m.sequence
      ? m.stages.filter((st) => st.label !== "until").reduce((a, st) => a + st.score, 0) / Math.max(1, m.stages.filter((st) => st.label !== "until").length)
      : m.stages[0].score;
  }
  return { misses: out, scanned, total };
}

/** For a sequence rule that did not fire: per join key, how far it got over the whole paste
 * (the core's sequenceProgress), the keys that got furthest first. */
function sequenceProgress(id) {
  try {
    const p = engine.sequenceProgress(id, text);
    return { timestampField: p.timestampField, keyFields: p.keyFields, keys: p.keys.slice(0, PROGRESS_KEYS), keyCount: p.keys.length, untimed: p.untimed };
  } catch {
    return null;
  }
}

/** Every saved case, run per rule through engine.test: the reports, or why a rule's could not run. */
function runTests(tests) {
  return byRule(tests || []).map(([ruleId, cases]) => {
    try {
      return { ruleId, report: engine.test(caseFileToml(ruleId, cases)) };
    } catch (err) {
      return { ruleId, error: String((err && err.message) || err) };
    }
  });
}

/** The engine's items are the split's (one splitter: always, unless something went wrong). */
function alignedWithEngine(batch, items) {
  if (batch.events !== items.length) return false;
  const enginePositions = new Set(batch.errors.map((e) => e.position));
  return items.every((it, i) => !it.error || enginePositions.has(i));
}

function evaluate(msg) {
  const t0 = now();
  if (msg.eventsVersion !== eventsVersion) {
    eventsVersion = msg.eventsVersion;
    text = msg.events || "";
    split = null;
  }
  const tRules = now();
  buildRules(msg.custom || [], msg.draft || "");
  const rulesMs = now() - tRules;

  const tSplit = now();
  const { items, form } = getSplit();
  const splitMs = now() - tSplit;

  const tEval = now();
  const batch = engine.evaluateBatch(text);
  const evalMs = now() - tEval;
  const aligned = alignedWithEngine(batch, items);

  // Alerts by rule, in rule order.
  const byRule = new Map();
  for (const a of batch.alerts) {
    let g = byRule.get(a.ruleId);
    if (!g) byRule.set(a.ruleId, (g = { ruleId: a.ruleId, count: 0, alerts: [], events: new Set() }));
    g.count++;
    for (const p of a.events) g.events.add(p);
    if (g.alerts.length < ALERTS_PER_RULE) g.alerts.push({ events: a.events });
  }

  const tExplain = now();
  const fired = [];
  for (const r of rulesInfo) {
    const g = byRule.get(r.ruleId);
    if (!g) continue;
    const described = new Map();
    const desc = (p) => {
      if (!described.has(p)) described.set(p, aligned ? describe(p) : { position: p, line: 0, title: "", detail: "" });
      return described.get(p);
    };
    fired.push({
      ruleId: r.ruleId,
      count: g.count,
      eventCount: g.events.size,
      alerts: g.alerts.map((a) => ({ events: a.events.map(desc) })),
      first: aligned && g.alerts.length ? explainAlert(r.ruleId, g.alerts[0].events) : null,
    });
  }
  const notFiredIds = rulesInfo.filter((r) => !byRule.has(r.ruleId)).map((r) => r.ruleId);
  const near = aligned ? nearMisses(notFiredIds, now()) : { misses: new Map(), scanned: 0, total: 0 };
  const withProgress = aligned && batch.events <= PROGRESS_EVENTS;
  const notFired = notFiredIds.map((id) => ({
    ruleId: id,
    miss: near.misses.get(id) || null,
    progress: withProgress && ruleById(id)?.kind === "sequence" ? sequenceProgress(id) : null,
  }));
  const explainMs = now() - tExplain;
  const tests = runTests(msg.tests);

  return {
    type: "result",
    seq: msg.seq,
    eventsVersion,
    rules: rulesInfo,
    ruleDiagnostics,
    form,
    aligned,
    bytes: text.length,
    events: batch.events,
    valid: batch.events - batch.errors.length,
    errors: batch.errors.slice(0, 500),
    errorCount: batch.errors.length,
    alertCount: batch.alerts.length,
    stats: batch.stats,
    fired,
    notFired,
    nearMiss: { scanned: near.scanned, total: near.total },
    tests,
    timing: { rulesMs, splitMs, evalMs, explainMs, totalMs: now() - t0 },
  };
}

let ready = false;
const queue = [];

function handle(msg) {
  try {
    if (msg.type === "evaluate") {
      postMessage(evaluate(msg));
    } else if (msg.type === "explain") {
      postMessage({ type: "explained", seq: msg.seq, eventsVersion, ...explainAlert(msg.ruleId, msg.positions) });
    } else if (msg.type === "synth") {
      postMessage({ type: "synthesized", seq: msg.seq, synthesis: engine.synth(msg.ruleId) });
    }
  } catch (err) {
    postMessage({ type: "error", seq: msg.seq, message: String((err && err.message) || err) });
  }
}

self.onmessage = (e) => {
  if (!ready) queue.push(e.data);
  else handle(e.data);
};

init()
  .then(() => {
    engine = new Engine({});
    engine.loadDefaultRules();
    builtinIds = new Set(engine.rules().map((r) => r.ruleId));
    rulesInfo = engine.rules().map((r) => ({ ...r, origin: "pack", overrides: null }));
    rulesKey = JSON.stringify([[], ""]);
    ready = true;
    // `synth` is in packages built with the cargo feature of that name only.
    postMessage({ type: "ready", version: version(), rules: rulesInfo, synth: typeof engine.synth === "function" });
    while (queue.length) handle(queue.shift());
  })
  .catch((err) => {
    postMessage({ type: "fatal", message: String((err && err.message) || err) });
  });
