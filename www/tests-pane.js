// The Tests panel: the pasted events saved as a case of a rule (expectation from the current
// verdict, editable), every case re-run with each evaluation (the worker's engine.test), each
// rule's query with the conditions no case has made decisive marked, and the case file to
// download for `eqlite test`. Cases travel in the share link (state.tests).

import { caseFileToml, byRule } from "./cases.js";
import { evaluateNow } from "./engine.js";
import { h } from "./explain-view.js";
import { ruleFor, state } from "./state.js";

const $ = (id) => document.getElementById(id);
/** Cases whose events editor is open, kept open across re-renders. */
const openEditors = new WeakSet();

/** The string index of byte offset `b` of `s` (UTF-8), for marking spans the engine gives in bytes. */
function indexOfByte(s, b) {
  let bytes = 0;
  let i = 0;
  for (const ch of s) {
    if (bytes >= b) break;
    const c = ch.codePointAt(0);
    bytes += c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
    i += ch.length;
  }
  return i;
}

/** The query with the conditions no case made decisive marked (outermost first, no overlaps). */
function coverageView(query, conditions) {
  const marks = conditions
    .filter((c) => c.decisiveIn.length === 0 && !c.excused)
    .map((c) => [indexOfByte(query, c.start), indexOfByte(query, c.end), c])
    .sort((a, b) => a[0] - b[0] || b[1] - a[1]);
  const pre = h("pre", "query-view coverage-view");
  let at = 0;
  for (const [s, e, c] of marks) {
    if (s < at) continue;
    pre.append(query.slice(at, s));
    const m = h("mark", "uncovered", query.slice(s, e));
    m.title = `${c.kind} at ${c.line}:${c.column}: no case makes it decisive`;
    pre.append(m);
    at = e;
  }
  pre.append(query.slice(at));
  return pre;
}

function download(ruleId, cases) {
  const a = h("a", "btn small", "Download case file");
  const blob = new Blob([caseFileToml(ruleId, cases)], { type: "application/toml" });
  a.href = URL.createObjectURL(blob);
  a.download = `${ruleId}.tests.toml`;
  return a;
}

function caseItem(t, result) {
  const passed = result && result.passed;
  const li = h("li", `test-case ${passed ? "pass" : "fail"}`);
  const expect = h("select", "test-expect");
  expect.setAttribute("aria-label", `Expectation of ${t.name}`);
  for (const v of ["fires", "silent"]) {
    const o = h("option", "", v === "fires" ? "fires" : "does not fire");
    o.value = v;
    o.selected = t.expect === v;
    expect.append(o);
  }
  expect.addEventListener("change", () => {
    t.expect = expect.value;
    evaluateNow();
  });
  const del = h("button", "btn small ghost", "Delete");
  del.type = "button";
  del.addEventListener("click", () => {
    state.tests.splice(state.tests.indexOf(t), 1);
    evaluateNow();
  });
  li.append(h("span", `mk mk-${passed ? "true" : "false"}`, passed ? "✓" : "✗"), " ", h("span", "test-name", t.name), " ", expect, " ", del);
  // The case's own events, editable: the case re-runs after a pause in typing.
  const ta = h("textarea", "test-events");
  ta.value = t.events;
  ta.spellcheck = false;
  ta.setAttribute("aria-label", `Events of ${t.name}`);
  let timer = null;
  ta.addEventListener("input", () => {
    t.events = ta.value;
    clearTimeout(timer);
    timer = setTimeout(evaluateNow, 250);
  });
  const det = h("details", "test-edit", h("summary", "", "Events"), ta);
  det.open = openEditors.has(t);
  det.addEventListener("toggle", () => (det.open ? openEditors.add(t) : openEditors.delete(t)));
  li.append(det);
  if (result && !passed) {
    const why = [];
    if (result.error) why.push(result.error);
    else why.push(`got ${result.got.length ? `${result.got.length} alert(s)` : "no alert"}`);
    if (result.deciding) why.push(`deciding clause: ${result.deciding.reason}\n${result.deciding.snippet.split("\n").slice(1).join("\n")}`);
    li.append(h("pre", "test-why", why.join("\n")));
  }
  return li;
}

/** Renders the saved cases and their results (`tests`: the worker's per-rule reports). */
export function renderTests(tests) {
  const list = $("test-list");
  // Re-rendering would take the caret out of a case's events editor: keep its place.
  const active = document.activeElement;
  const typing = active && active.classList && active.classList.contains("test-events") ? [active.getAttribute("aria-label"), active.selectionStart] : null;
  const reports = new Map((tests || []).map((r) => [r.ruleId, r]));
  const groups = byRule(state.tests);
  const out = [];
  let passed = 0;
  for (const [ruleId, cases] of groups) {
    const r = reports.get(ruleId);
    const rule = ruleFor(ruleId);
    const group = h("li", "test-rule");
    const head = h("div", "test-rule-head", h("strong", "", rule ? rule.name : ruleId));
    if (r && r.report) head.append(" ", h("span", "test-coverage", `coverage ${Math.round(r.report.coverage * 10) / 10}%`));
    head.append(" ", download(ruleId, cases));
    group.append(head);
    if (r && r.error) group.append(h("p", "diag-err", r.error));
    const ul = h("ul", "test-cases");
    ul.setAttribute("aria-label", `Cases of ${rule ? rule.name : ruleId}`);
    cases.forEach((t, k) => {
      const res = r && r.report ? r.report.cases[k] : null;
      if (res && res.passed) passed++;
      ul.append(caseItem(t, res));
    });
    group.append(ul);
    if (r && r.report && rule) group.append(coverageView(rule.query, r.report.conditions));
    out.push(group);
  }
  list.replaceChildren(...out);
  if (typing) {
    const ta = [...list.querySelectorAll("textarea.test-events")].find((x) => x.getAttribute("aria-label") === typing[0]);
    if (ta) {
      ta.focus();
      ta.setSelectionRange(typing[1], typing[1]);
    }
  }
  $("tests-summary").textContent = state.tests.length ? `${passed} of ${state.tests.length} passed` : "no cases yet";
  const sel = $("test-rule");
  const keep = sel.value;
  sel.replaceChildren(...state.rules.map((r) => Object.assign(h("option", "", r.name), { value: r.ruleId })));
  if (keep && state.rules.some((r) => r.ruleId === keep)) sel.value = keep;
}

export function initTestsPane() {
  $("test-save").addEventListener("click", () => {
    const ruleId = $("test-rule").value;
    if (!ruleId || !state.events.trim()) return;
    const fired = !!(state.lastResult && state.lastResult.fired.some((f) => f.ruleId === ruleId));
    const name = $("test-name").value.trim() || `case ${state.tests.filter((t) => t.ruleId === ruleId).length + 1}`;
    state.tests.push({ ruleId, name, expect: fired ? "fires" : "silent", events: state.events });
    $("test-name").value = "";
    evaluateNow();
  });
}
