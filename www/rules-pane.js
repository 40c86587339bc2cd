// The Rules panel: the loaded rules (kubelet pack first by severity, then the analyst's own),
// filtering them, and the editor for the analyst's own rule (EQL or detection-rules TOML) with its
// diagnostics underlined at their position.

import { h, mark } from "./explain-view.js";
import { requestSynth, schedule } from "./engine.js";
import { loadText, revealInTextarea } from "./events-pane.js";
import { ruleFor, state } from "./state.js";
import { el, onFileDrop, paintOverlay, sevBadge, sevClass, syncScroll, toast } from "./ui.js";

const SEV_ORDER = { critical: 0, high: 1, medium: 2, low: 3 };

/** The engine's rule list; the list is rendered again only when it changed. */
export function setRules(list) {
  const key = JSON.stringify(list.map((r) => [r.ruleId, r.name, r.origin, r.query.length]));
  state.rules = list;
  if (key !== state.rulesKey) {
    state.rulesKey = key;
    renderRuleList();
  }
  updateRuleBadges();
}

function techniques(r) {
  return r.techniques || [];
}

function renderRuleList() {
  const open = new Set([...el.ruleList.querySelectorAll("details[open]")].map((d) => d.dataset.rule));
  const sorted = state.rules.slice().sort((a, b) => {
    const oa = a.origin === "pack" ? 1 : 0;
    const ob = b.origin === "pack" ? 1 : 0;
    if (oa !== ob) return oa - ob;
    return (SEV_ORDER[a.severity] ?? 9) - (SEV_ORDER[b.severity] ?? 9) || a.name.localeCompare(b.name);
  });
  const frag = document.createDocumentFragment();
  for (const r of sorted) {
    const li = h("li", `rule ${sevClass(r.severity)}`);
    li.dataset.rule = r.ruleId;
    li.dataset.search = [r.name, r.ruleId, r.severity, r.kind, ...(r.tags || []), ...techniques(r).flatMap((t) => [t.id, t.name]), ...(r.tactics || []).flatMap((t) => [t.id, t.name])]
      .join(" ")
      .toLowerCase();
    const det = h("details", "rule-det");
    det.dataset.rule = r.ruleId;
    const meta = h("span", "rule-meta", sevBadge(r.severity), h("span", "risk", `risk ${r.riskScore}`));
    if (r.kind !== "event") meta.append(h("span", "kind", r.kind));
    if (r.origin !== "pack") meta.append(h("span", "origin", r.origin === "draft" ? "draft" : "custom"));
    const techs = techniques(r);
    for (const t of techs.slice(0, 4)) {
      const a = h("abbr", "tech", t.id);
      a.title = t.name;
      meta.append(a);
    }
    if (techs.length > 4) meta.append(h("span", "more", `+${techs.length - 4}`));
    const badge = h("span", "fired-badge");
    badge.hidden = true;
    const summary = h("summary", "rule-sum", h("span", "rule-main", h("span", "rule-name", r.name), meta), badge);
    det.append(summary);
    const body = h("div", "rule-body");
    if (r.description) body.append(h("p", "desc", r.description));
    if (r.overrides) body.append(h("p", "note", "Replaces the pack rule with the same rule_id."));
    const dl = h("dl", "mitre");
    if ((r.tactics || []).length) {
      dl.append(h("dt", "", "Tactics"), h("dd", "", r.tactics.map((t) => `${t.name} (${t.id})`).join(", ")));
    }
    if (techs.length) {
      const dd = h("dd", "");
      techs.forEach((t, i) => {
        if (i) dd.append(", ");
        dd.append(h("code", "", t.id), ` ${t.name}`);
      });
      dl.append(h("dt", "", "Techniques"), dd);
    }
    if ((r.index || []).length) dl.append(h("dt", "", "Index"), h("dd", "", r.index.join(", ")));
    dl.append(h("dt", "", "Rule id"), h("dd", "", h("code", "", r.ruleId)));
    body.append(dl);
    const pre = h("pre", "code", r.query.trim());
    pre.tabIndex = 0;
    pre.setAttribute("aria-label", `Query of ${r.name}`);
    body.append(pre);
    if (state.canSynth) body.append(showMe(r));
    if (r.origin === "custom") {
      const edit = h("button", "btn small", "Edit");
      edit.type = "button";
      edit.addEventListener("click", () => {
        const text = state.custom[r.customIndex];
        state.custom.splice(r.customIndex, 1);
        setDraft(text);
        el.customRule.focus();
        schedule();
      });
      const del = h("button", "btn small danger", "Remove");
      del.type = "button";
      del.addEventListener("click", () => {
        state.custom.splice(r.customIndex, 1);
        toast(`Removed ${r.name}`);
        schedule();
      });
      body.append(h("div", "row-actions", edit, del));
    }
    det.append(body);
    if (open.has(r.ruleId)) det.open = true;
    li.append(det);
    frag.append(li);
  }
  el.ruleList.replaceChildren(frag);
  const pack = state.rules.filter((r) => r.origin === "pack").length;
  const own = state.rules.length - pack;
  el.rulesCount.textContent = own ? `${pack} kubelet + ${own} yours` : `${pack} kubelet rules`;
  applyFilter();
}

/** Events as pretty-printed objects one after another (the splitter reads them as they are). */
const ndjson = (events) => events.map((e) => JSON.stringify(e, null, 2)).join("\n") + "\n";

/** "Show me": fills Events with events the engine built to fire the rule (proven by it), and lists
 * the rule's near misses (one condition turned each, none fires), each loaded by one click. */
function showMe(r) {
  const box = h("div", "synth");
  const near = h("ul", "synth-near");
  near.setAttribute("aria-label", `Near misses of ${r.name}`);
  const caption = h("p", "synth-caption");
  const go = h("button", "btn small", "Show me");
  go.type = "button";
  go.title = "Fill Events with an event that fires this rule";
  go.addEventListener("click", async () => {
    let s;
    try {
      s = await requestSynth(r.ruleId);
    } catch (err) {
      toast(String(err.message || err));
      return;
    }
    loadText(ndjson(s.events));
    toast(`Events: ${s.events.length === 1 ? "an event that fires" : `${s.events.length} events that fire`} ${r.name}`);
    const items = s.nearMisses.map((n) => {
      const b = h("button", "btn tiny near-btn", h("code", "", n.condition.length > 80 ? n.condition.slice(0, 79) + "…" : n.condition), ` ${n.change}`);
      b.type = "button";
      b.title = "Load this near miss into Events (it does not fire)";
      b.addEventListener("click", () => {
        loadText(ndjson(n.events));
        toast(`Near miss: ${n.change}`);
      });
      return h("li", "", b);
    });
    const back = h("button", "btn tiny", "Firing events again");
    back.type = "button";
    back.addEventListener("click", () => loadText(ndjson(s.events)));
    near.replaceChildren(...items);
    caption.replaceChildren(`${items.length} near ${items.length === 1 ? "miss" : "misses"}, one condition turned each (none fires): `, back);
  });
  box.append(h("div", "row-actions", go), caption, near);
  return box;
}

export function updateRuleBadges() {
  const fired = new Map((state.lastResult ? state.lastResult.fired : []).map((f) => [f.ruleId, f.count]));
  for (const li of el.ruleList.children) {
    const b = li.querySelector(".fired-badge");
    const n = fired.get(li.dataset.rule);
    li.classList.toggle("has-fired", !!n);
    if (n) {
      b.hidden = false;
      b.textContent = `${n > 999 ? "999+" : n} fired`;
    } else {
      b.hidden = true;
    }
  }
}

function applyFilter() {
  const q = el.ruleFilter.value.trim().toLowerCase();
  for (const li of el.ruleList.children) {
    li.hidden = q !== "" && !q.split(/\s+/).every((w) => li.dataset.search.includes(w));
  }
}

export function setDraft(text) {
  state.draft = text;
  el.customRule.value = text;
}

function renderDiagnostic(text, d) {
  const item = h("div", "diag-item");
  const pos = h("button", "diag-pos", `${d.line}:${d.column}`);
  pos.type = "button";
  pos.title = `Go to line ${d.line}, column ${d.column}`;
  pos.addEventListener("click", () => revealInTextarea(el.customRule, d.startUtf16, Math.max(d.endUtf16, d.startUtf16 + 1)));
  item.append(h("div", "diag-head", mark(false), pos, h("span", "diag-msg", d.message)));
  // The offending line with the span underlined.
  const lineStart = text.lastIndexOf("\n", d.startUtf16 - 1) + 1;
  let lineEnd = text.indexOf("\n", d.startUtf16);
  if (lineEnd < 0) lineEnd = text.length;
  const s = Math.min(d.startUtf16, lineEnd);
  const e = Math.min(Math.max(d.endUtf16, s + 1), lineEnd);
  const snip = h("pre", "diag-snippet");
  snip.append(h("span", "ln", `${d.line} │ `), text.slice(lineStart, s));
  const under = h("span", "under", e > s ? text.slice(s, e) : " ");
  under.title = d.message;
  snip.append(under, text.slice(e, lineEnd));
  item.append(snip);
  return item;
}

/** The draft rule's diagnostics (or that it is valid), and saved rules that no longer load. */
export function renderCustomState(rd) {
  const draft = rd.draft;
  const text = el.customRule.value;
  el.customKind.textContent = !text.trim() ? "EQL query or detection-rules TOML" : draft && draft.kind === "toml" ? "detection-rules TOML" : "EQL query";
  el.customDiag.replaceChildren();
  el.customAdd.disabled = !(draft && draft.ruleId);
  if (!text.trim() || !draft || text !== state.draft) {
    paintOverlay(el.customRule, el.customBackdrop, []);
    return;
  }
  if (draft.diagnostics.length) {
    el.customRule.setAttribute("aria-invalid", "true");
    for (const d of draft.diagnostics) el.customDiag.append(renderDiagnostic(text, d));
    paintOverlay(
      el.customRule,
      el.customBackdrop,
      draft.diagnostics.map((d) => [d.startUtf16, Math.max(d.endUtf16, d.startUtf16 + 1), d.message]),
    );
  } else {
    el.customRule.removeAttribute("aria-invalid");
    const r = ruleFor(draft.ruleId);
    const name = r ? r.name : draft.ruleId;
    const ok = h("div", "diag-ok", mark(true), h("span", "", `Valid ${draft.kind === "toml" ? "rule" : "query"} — evaluated as “${name}”`));
    if (draft.overrides) ok.append(h("span", "hint", " (replaces the pack rule with this id)"));
    el.customDiag.append(ok);
    paintOverlay(el.customRule, el.customBackdrop, []);
  }
  // Saved custom rules that no longer load.
  rd.custom.forEach((c, i) => {
    if (c.diagnostics && c.diagnostics.length) {
      el.customDiag.append(h("div", "diag-item", h("div", "diag-head", mark(false), h("span", "diag-msg", `Saved rule ${i + 1} does not load: ${c.diagnostics[0].message}`))));
    }
  });
}

export function initRulesPane() {
  el.ruleFilter.addEventListener("input", applyFilter);
  el.customRule.addEventListener("input", () => {
    state.draft = el.customRule.value;
    el.customBackdrop.replaceChildren();
    schedule();
  });
  el.customRule.addEventListener("scroll", () => syncScroll(el.customRule));

  el.customAdd.addEventListener("click", () => {
    if (!state.draft.trim()) {
      el.customRule.focus();
      return;
    }
    state.custom.push(state.draft);
    setDraft("");
    toast("Rule added to the rule set");
    schedule();
  });

  el.customFile.addEventListener("change", async () => {
    const files = [...el.customFile.files];
    el.customFile.value = "";
    if (!files.length) return;
    const texts = await Promise.all(files.map((f) => f.text()));
    if (texts.length === 1) {
      setDraft(texts[0]);
    } else {
      state.custom.push(...texts);
      toast(`Added ${texts.length} rules`);
    }
    schedule();
  });
  onFileDrop(el.customRule, async (file) => {
    setDraft(await file.text());
    schedule();
  });
}
