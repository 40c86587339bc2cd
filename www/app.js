// The eqlite playground page: rules | events | results. The engine runs in a module worker
// (worker.js); this file only renders. Every value from events or rules is set with
// textContent / createElement; nothing is parsed as HTML.

import { SAMPLES } from "./samples.js";
import { h, mark, renderTree } from "./explain-view.js";
import { failurePath } from "./explain-utils.js";
import { offsetOf } from "./split.js";

const $ = (id) => document.getElementById(id);
const el = {
  status: $("engine-status"),
  samplesMenu: $("samples-menu"),
  samplesList: $("samples-list"),
  share: $("share"),
  ruleFilter: $("rule-filter"),
  ruleList: $("rule-list"),
  rulesCount: $("rules-count"),
  customRule: $("custom-rule"),
  customBackdrop: $("custom-backdrop"),
  customKind: $("custom-kind"),
  customDiag: $("custom-diag"),
  customAdd: $("custom-add"),
  customFile: $("custom-file"),
  events: $("events"),
  eventsBackdrop: $("events-backdrop"),
  eventsLarge: $("events-large"),
  eventsForm: $("events-form"),
  eventsFile: $("events-file"),
  eventsClear: $("events-clear"),
  caret: $("caret"),
  eventsSize: $("events-size"),
  inputErrors: $("input-errors"),
  summary: $("summary"),
  resultsBody: $("results-body"),
  toast: $("toast"),
};

const DEBOUNCE_MS = 250;
/** Above this many characters the text areas get no underline overlay. */
const OVERLAY_LIMIT = 200_000;
const SEV_ORDER = { critical: 0, high: 1, medium: 2, low: 3 };

const state = {
  events: "",
  eventsVersion: 0,
  custom: [],
  draft: "",
};

let rules = [];
let rulesKey = "";
let lastResult = null;
let engineReady = false;
const openKeys = new Set();
const selectedAlert = new Map();
const explainCache = new Map();

// ---------------------------------------------------------------- worker

const worker = new Worker(new URL("./worker.js", import.meta.url), { type: "module" });
let seq = 0;
let inFlight = null;
let pending = false;
let timer = null;
let sentVersion = -1;
let seqOfLastEvaluate = -1;
const explainWaiters = new Map();

worker.onmessage = (e) => {
  const m = e.data;
  if (m.type === "ready") {
    engineReady = true;
    el.status.textContent = `Engine ready · eqlite ${m.version}`;
    el.status.classList.add("ok");
    setRules(m.rules);
    evaluateNow();
  } else if (m.type === "fatal") {
    el.status.textContent = "Engine failed to load";
    el.status.classList.add("bad");
    showBanner(`The engine could not start: ${m.message}. Was the npm package built (bash scripts/build-wasm.sh) and copied to www/pkg?`);
  } else if (m.type === "result") {
    if (inFlight === m.seq) inFlight = null;
    sentVersion = m.eventsVersion;
    onResult(m);
    if (pending) {
      pending = false;
      evaluateNow();
    }
  } else if (m.type === "explained") {
    const w = explainWaiters.get(m.seq);
    explainWaiters.delete(m.seq);
    if (w) w(m);
  } else if (m.type === "error") {
    if (inFlight === m.seq) inFlight = null;
    const w = explainWaiters.get(m.seq);
    if (w) {
      explainWaiters.delete(m.seq);
      w(null, m.message);
    } else {
      showBanner(`Evaluation failed: ${m.message}`);
    }
    if (pending) {
      pending = false;
      evaluateNow();
    }
  }
};
worker.onerror = (e) => {
  el.status.textContent = "Engine failed to load";
  el.status.classList.add("bad");
  showBanner(`The engine worker failed: ${e.message || "unknown error"}`);
};

function schedule() {
  clearTimeout(timer);
  el.summary.textContent = "Evaluating…";
  timer = setTimeout(evaluateNow, DEBOUNCE_MS);
}

function evaluateNow() {
  clearTimeout(timer);
  timer = null;
  if (!engineReady) return;
  if (inFlight !== null) {
    pending = true;
    return;
  }
  const msg = {
    type: "evaluate",
    seq: ++seq,
    eventsVersion: state.eventsVersion,
    custom: state.custom.slice(),
    draft: state.draft,
  };
  if (sentVersion !== state.eventsVersion) msg.events = state.events;
  inFlight = msg.seq;
  seqOfLastEvaluate = msg.seq;
  el.summary.textContent = "Evaluating…";
  worker.postMessage(msg);
}

function requestExplain(ruleId, positions) {
  return new Promise((resolve, reject) => {
    const s = ++seq;
    explainWaiters.set(s, (m, err) => (m ? resolve(m) : reject(new Error(err))));
    worker.postMessage({ type: "explain", seq: s, ruleId, positions });
  });
}

// ---------------------------------------------------------------- helpers

const nf = new Intl.NumberFormat("en-US");
const plural = (n, one, many = one + "s") => `${nf.format(n)} ${n === 1 ? one : many}`;

function fmtMs(ms) {
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  if (ms < 100) return `${ms.toFixed(1)} ms`;
  if (ms < 10000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(1)} s`;
}

function fmtBytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

function sevClass(sev) {
  return `sev-${(sev || "low").toLowerCase()}`;
}

function sevBadge(sev) {
  return h("span", `sev ${sevClass(sev)}`, (sev || "?").toLowerCase());
}

function ruleFor(id) {
  return rules.find((r) => r.ruleId === id);
}

let toastTimer = null;
function toast(text) {
  el.toast.textContent = text;
  el.toast.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => (el.toast.hidden = true), 3500);
}

function showBanner(text) {
  const b = h("div", "banner", text);
  b.setAttribute("role", "alert");
  el.resultsBody.replaceChildren(b);
}

/** Sets the caret of a text area at a UTF-16 range and scrolls it into view. */
function revealInTextarea(ta, start, end) {
  ta.focus();
  ta.setSelectionRange(start, Math.max(start, end));
  const before = ta.value.slice(0, start);
  const line = before.split("\n").length - 1;
  const lh = parseFloat(getComputedStyle(ta).lineHeight) || 18;
  ta.scrollTop = Math.max(0, line * lh - ta.clientHeight / 3);
  const col = start - (before.lastIndexOf("\n") + 1);
  const cw = lh * 0.5;
  ta.scrollLeft = Math.max(0, col * cw - ta.clientWidth / 2);
  updateCaret();
  syncScroll(ta);
}

// ---------------------------------------------------------------- underline overlays

function syncScroll(ta) {
  const bd = ta === el.events ? el.eventsBackdrop : el.customBackdrop;
  bd.scrollTop = ta.scrollTop;
  bd.scrollLeft = ta.scrollLeft;
}

/** Draws wavy underlines under ranges of a text area (via a mirrored backdrop). */
function paintOverlay(ta, backdrop, ranges) {
  const text = ta.value;
  if (!ranges.length || text.length > OVERLAY_LIMIT) {
    backdrop.replaceChildren();
    return;
  }
  const sorted = ranges
    .map(([s, e, msg]) => [Math.max(0, Math.min(s, text.length)), Math.max(0, Math.min(e, text.length)), msg])
    .sort((a, b) => a[0] - b[0]);
  const frag = document.createDocumentFragment();
  let cur = 0;
  for (let [s, e, msg] of sorted) {
    if (s < cur) continue;
    if (e <= s) e = s + 1;
    frag.append(document.createTextNode(text.slice(cur, s)));
    let piece = text.slice(s, Math.min(e, text.length));
    // A zero-width or end-of-line error still gets something to underline.
    if (piece === "" || piece === "\n") piece = " " + piece;
    const m = h("mark", "err-under", piece);
    m.title = msg || "";
    frag.append(m);
    cur = Math.min(e, text.length);
  }
  frag.append(document.createTextNode(text.slice(cur) + "\n\n"));
  backdrop.replaceChildren(frag);
  syncScroll(ta);
}

// ---------------------------------------------------------------- rules panel

function setRules(list) {
  const key = JSON.stringify(list.map((r) => [r.ruleId, r.name, r.origin, r.query.length]));
  rules = list;
  if (key !== rulesKey) {
    rulesKey = key;
    renderRuleList();
  }
  updateRuleBadges();
}

function techniques(r) {
  return r.techniques || [];
}

function renderRuleList() {
  const open = new Set([...el.ruleList.querySelectorAll("details[open]")].map((d) => d.dataset.rule));
  const sorted = rules.slice().sort((a, b) => {
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
  const pack = rules.filter((r) => r.origin === "pack").length;
  const own = rules.length - pack;
  el.rulesCount.textContent = own ? `${pack} kubelet + ${own} yours` : `${pack} kubelet rules`;
  applyFilter();
}

function updateRuleBadges() {
  const fired = new Map((lastResult ? lastResult.fired : []).map((f) => [f.ruleId, f.count]));
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

el.ruleFilter.addEventListener("input", applyFilter);

// ---------------------------------------------------------------- custom rule editor

function setDraft(text) {
  state.draft = text;
  el.customRule.value = text;
}

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

function renderCustomState(rd) {
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

// ---------------------------------------------------------------- events panel

let caretRaf = 0;
function updateCaret() {
  cancelAnimationFrame(caretRaf);
  caretRaf = requestAnimationFrame(() => {
    const ta = el.events;
    const pos = ta.selectionStart;
    const v = ta.value;
    let line = 1;
    let i = -1;
    while ((i = v.indexOf("\n", i + 1)) >= 0 && i < pos) line++;
    const col = pos - (v.lastIndexOf("\n", pos - 1) + 1) + 1;
    el.caret.textContent = `Ln ${line}, Col ${col}`;
  });
}

/** Inputs above this size are not put in the text area (a browser lays out a 10 MB text area for
 * seconds); it shows the beginning, read-only, and the whole text goes to the engine. */
const LARGE_INPUT = 1024 * 1024;
const PREVIEW_CHARS = 128 * 1024;
let largeMode = false;

/** Puts `text` in the Events area (or its preview, when large) and evaluates it. */
function loadText(text, { now = true } = {}) {
  showLarge(text.length > LARGE_INPUT, text);
  if (!largeMode) el.events.value = text;
  setEvents(text, { now });
}

function showLarge(on, text) {
  largeMode = on;
  el.events.readOnly = on;
  el.eventsLarge.hidden = !on;
  el.eventsLarge.replaceChildren();
  if (!on) return;
  let cut = text.lastIndexOf("\n", PREVIEW_CHARS);
  if (cut < PREVIEW_CHARS / 2) cut = PREVIEW_CHARS;
  el.events.value = text.slice(0, cut);
  const edit = h("button", "btn tiny", "Edit the full text");
  edit.type = "button";
  edit.title = "Puts the whole input in the text area; the browser may pause for a few seconds";
  edit.addEventListener("click", () => {
    showLarge(false, "");
    el.events.value = state.events;
    el.events.focus();
  });
  el.eventsLarge.append(
    h("span", "", mark(null), ` Large input: ${fmtBytes(text.length)}. The first ${fmtBytes(cut)} are shown read-only; all of it is evaluated. `),
    edit,
  );
}

function setEvents(text, { now = false } = {}) {
  state.events = text;
  state.eventsVersion++;
  explainCache.clear();
  selectedAlert.clear();
  el.eventsBackdrop.replaceChildren();
  updateSize();
  if (now) evaluateNow();
  else schedule();
}

function updateSize() {
  const v = state.events;
  if (!v) {
    el.eventsSize.textContent = "";
    return;
  }
  let lines = 1;
  let i = -1;
  while ((i = v.indexOf("\n", i + 1)) >= 0) lines++;
  el.eventsSize.textContent = `${nf.format(lines)} lines · ${fmtBytes(v.length)}`;
}

el.events.addEventListener("input", () => {
  if (!largeMode) setEvents(el.events.value);
});
el.events.addEventListener("paste", (e) => {
  const t = e.clipboardData ? e.clipboardData.getData("text/plain") : "";
  if (!t || (!largeMode && t.length <= LARGE_INPUT)) return;
  e.preventDefault();
  const ta = el.events;
  const full = largeMode ? t : ta.value.slice(0, ta.selectionStart) + t + ta.value.slice(ta.selectionEnd);
  loadText(full);
  toast(`Pasted ${fmtBytes(t.length)}`);
});
el.events.addEventListener("scroll", () => syncScroll(el.events));
for (const ev of ["keyup", "click", "select"]) el.events.addEventListener(ev, updateCaret);

el.eventsClear.addEventListener("click", () => {
  loadText("");
  el.events.focus();
});

async function loadEventsFile(file) {
  el.summary.textContent = `Reading ${file.name}…`;
  const text = await file.text();
  loadText(text);
  toast(`Loaded ${file.name} (${fmtBytes(file.size)})`);
}

el.eventsFile.addEventListener("change", () => {
  const f = el.eventsFile.files[0];
  el.eventsFile.value = "";
  if (f) loadEventsFile(f);
});

for (const ta of [el.events, el.customRule]) {
  ta.addEventListener("dragover", (e) => {
    if (e.dataTransfer && [...e.dataTransfer.types].includes("Files")) {
      e.preventDefault();
      ta.classList.add("drop");
    }
  });
  ta.addEventListener("dragleave", () => ta.classList.remove("drop"));
  ta.addEventListener("drop", async (e) => {
    ta.classList.remove("drop");
    const files = e.dataTransfer ? [...e.dataTransfer.files] : [];
    if (!files.length) return;
    e.preventDefault();
    if (ta === el.events) loadEventsFile(files[0]);
    else {
      setDraft(await files[0].text());
      schedule();
    }
  });
}

const FORM_NAME = { array: "JSON array", ndjson: "NDJSON", object: "JSON object", search: "search response", mixed: "NDJSON + search responses", empty: "" };

function renderInputErrors(r) {
  el.inputErrors.replaceChildren();
  const errs = r.errors;
  if (!r.errorCount) {
    el.events.removeAttribute("aria-invalid");
    paintOverlay(el.events, el.eventsBackdrop, []);
    return;
  }
  el.events.setAttribute("aria-invalid", "true");
  const head = h(
    "div",
    "ie-head",
    mark(false),
    h("strong", "", `${plural(r.errorCount, "invalid item")}`),
    h("span", "", ` — the other ${plural(r.valid, "event")} ${r.valid === 1 ? "was" : "were"} evaluated`),
  );
  const list = h("ul", "ie-list");
  for (const e of errs.slice(0, 50)) {
    const b = h("button", "ie-pos", `Line ${e.line}, column ${e.column}`);
    b.type = "button";
    b.addEventListener("click", () => {
      const off = offsetOf(state.events, e.line, e.column);
      if (off > el.events.value.length) return toast(`Line ${e.line} is past the part of the input shown here`);
      revealInTextarea(el.events, off, off + 1);
    });
    list.append(h("li", "", b, h("span", "ie-msg", e.message), h("span", "ie-item", `item #${e.position + 1}`)));
  }
  if (r.errorCount > 50) list.append(h("li", "more", `… and ${nf.format(r.errorCount - 50)} more`));
  el.inputErrors.append(head, list);
  if (state.events.length <= OVERLAY_LIMIT && r.eventsVersion === state.eventsVersion) {
    paintOverlay(
      el.events,
      el.eventsBackdrop,
      errs.slice(0, 200).map((e) => {
        const off = offsetOf(state.events, e.line, e.column);
        return [off, off + 1, `${e.message} (line ${e.line}, column ${e.column})`];
      }),
    );
  }
}

// ---------------------------------------------------------------- results

function onResult(r) {
  const sameEvents = r.eventsVersion === state.eventsVersion;
  lastResult = r;
  setRules(r.rules);
  renderCustomState(r.ruleDiagnostics);
  el.eventsForm.textContent = FORM_NAME[r.form] || "";
  el.eventsForm.hidden = !FORM_NAME[r.form];
  if (sameEvents) renderInputErrors(r);
  renderResults(r);
  updateRuleBadges();
}

function renderSummary(r) {
  const fired = r.fired.length;
  if (r.events === 0) {
    el.summary.textContent = `No events · ${r.rules.length} rules loaded`;
    el.summary.title = "";
    return;
  }
  const parts = [plural(r.events, "event")];
  if (r.errorCount) parts.push(`${nf.format(r.errorCount)} invalid`);
  parts.push(`${fired} of ${r.rules.length} rules fired`);
  parts.push(plural(r.alertCount, "alert"));
  parts.push(fmtMs(r.timing.evalMs));
  el.summary.textContent = parts.join(" · ");
  el.summary.title = `split ${fmtMs(r.timing.splitMs)} · evaluate ${fmtMs(r.timing.evalMs)} · explain ${fmtMs(r.timing.explainMs)} · total in worker ${fmtMs(r.timing.totalMs)}`;
}

function emptyState() {
  const box = h("div", "empty");
  box.append(
    h("h3", "", "Paste events to see which rules fire — and why the others don't"),
    h("p", "", "Drop in Elastic events as one JSON object, NDJSON, a JSON array or a _search response. Everything runs in this tab; nothing is uploaded."),
  );
  const picks = h("div", "empty-picks");
  for (const id of ["kubelet-curl", "sa-token-then-api", "benign-slow"]) {
    const s = SAMPLES.find((x) => x.id === id);
    if (!s) continue;
    const b = h("button", "pick", h("span", `tag tag-${s.kind}`, s.kind), h("span", "pick-title", s.title));
    b.type = "button";
    b.addEventListener("click", () => loadSample(s));
    picks.append(b);
  }
  box.append(picks);
  return box;
}

function renderResults(r) {
  renderSummary(r);
  const focusKey = document.activeElement && el.resultsBody.contains(document.activeElement) ? document.activeElement.dataset.focus : null;
  const body = document.createDocumentFragment();
  if (r.events === 0) {
    body.append(emptyState());
    el.resultsBody.replaceChildren(body);
    return;
  }
  if (!r.aligned) {
    body.append(h("div", "banner warn", "The events could not be matched to the pasted text one by one, so explanations are not shown. Alerts are still listed."));
  }

  // Fired.
  const firedHead = h("h3", "group-head", h("span", "", "Fired"), h("span", "count", String(r.fired.length)));
  body.append(firedHead);
  if (!r.fired.length) {
    body.append(h("p", "none", "No rule fired on these events."));
  } else {
    const ul = h("ul", "hits");
    ul.setAttribute("aria-label", "Rules that fired");
    const fired = r.fired.slice().sort((a, b) => {
      const ra = ruleFor(a.ruleId) || {};
      const rb = ruleFor(b.ruleId) || {};
      return (rb.riskScore || 0) - (ra.riskScore || 0) || (ra.name || "").localeCompare(rb.name || "");
    });
    for (const f of fired) ul.append(firedItem(f));
    body.append(ul);
  }

  // Did not fire.
  const missHead = h("h3", "group-head", h("span", "", "Did not fire"), h("span", "count", String(r.notFired.length)));
  body.append(missHead);
  if (r.notFired.length) {
    const ul = h("ul", "hits misses");
    ul.setAttribute("aria-label", "Rules that did not fire");
    const nf2 = r.notFired.slice().sort((a, b) => (b.miss ? b.miss.score : -1) - (a.miss ? a.miss.score : -1));
    for (const m of nf2) ul.append(missItem(m));
    body.append(ul);
    if (r.nearMiss.scanned < r.nearMiss.total) {
      body.append(h("p", "note", `Near misses were searched in the first ${nf.format(r.nearMiss.scanned)} of ${nf.format(r.nearMiss.total)} events.`));
    }
  }
  el.resultsBody.replaceChildren(body);
  if (focusKey) {
    const f = el.resultsBody.querySelector(`[data-focus="${CSS.escape(focusKey)}"]`);
    if (f) f.focus();
  }
}

function eventRef(ev) {
  return `#${ev.position + 1}`;
}

function firedItem(f) {
  const r = ruleFor(f.ruleId) || { name: f.ruleId, severity: "low", riskScore: 0, kind: "event", query: "" };
  const key = `fired:${f.ruleId}`;
  const li = h("li", `hit ${sevClass(r.severity)}`);
  li.dataset.rule = f.ruleId;
  const det = h("details", "hit-det");
  const firstAlert = f.alerts[0];
  const evs = firstAlert ? firstAlert.events : [];
  const sub = h("span", "hit-sub");
  sub.append(h("span", "alerts", plural(f.count, "alert")));
  if (evs.length) {
    const ev = evs[0];
    sub.append(" · ", h("span", "evref", `${r.kind === "event" ? "event" : "events"} ${evs.map(eventRef).join(", ")}`));
    if (ev.title) sub.append(" · ", h("span", "evtitle", ev.title));
  }
  if (f.count > 1) sub.append(h("span", "more", ` (+${nf.format(f.count - 1)} more)`));
  const summary = h(
    "summary",
    "hit-sum",
    sevBadge(r.severity),
    h("span", "hit-main", h("span", "hit-name", r.name), sub),
    h("span", "risk-score", h("span", "rs-n", String(r.riskScore)), h("span", "rs-l", "risk")),
  );
  return expandable(li, det, summary, key, (bodyEl) => buildFiredBody(bodyEl, f, r));
}

/** Completes a result item: `summary` over a body built by `build` the first time it is opened;
 * an item open before a re-render (same `key`) is open again. */
function expandable(li, det, summary, key, build) {
  summary.dataset.focus = key;
  det.append(summary);
  const bodyEl = h("div", "hit-body");
  det.append(bodyEl);
  const open = () => {
    if (bodyEl.dataset.built) return;
    bodyEl.dataset.built = "1";
    build(bodyEl);
  };
  det.addEventListener("toggle", () => {
    if (det.open) {
      openKeys.add(key);
      open();
    } else openKeys.delete(key);
  });
  if (openKeys.has(key)) {
    det.open = true;
    open();
  }
  li.append(det);
  return li;
}

function buildFiredBody(bodyEl, f, r) {
  if (r.description) {
    const d = h("p", "desc", r.description);
    d.title = r.description;
    bodyEl.append(d);
  }
  const view = h("div", "alert-view");
  const show = async (idx) => {
    selectedAlert.set(f.ruleId, idx);
    for (const b of bodyEl.querySelectorAll(".alert-pick button")) b.setAttribute("aria-pressed", String(Number(b.dataset.idx) === idx));
    const alert = f.alerts[idx];
    const cacheKey = `${lastResult.eventsVersion}:${f.ruleId}:${alert.events.join(",")}`;
    let data = idx === 0 && f.first ? f.first : explainCache.get(cacheKey);
    if (!data) {
      view.replaceChildren(h("p", "loading", "Explaining…"));
      try {
        data = await requestExplain(f.ruleId, alert.events);
      } catch (err) {
        view.replaceChildren(h("p", "banner", `Could not explain: ${err.message}`));
        return;
      }
      // The events changed meanwhile: a newer result is on its way.
      if (!lastResult || data.eventsVersion !== lastResult.eventsVersion) return;
      explainCache.set(cacheKey, data);
    }
    renderAlert(view, data, r);
  };
  if (f.alerts.length > 1) {
    const pick = h("div", "alert-pick");
    pick.setAttribute("role", "group");
    pick.setAttribute("aria-label", "Alerts of this rule");
    pick.append(h("span", "pick-label", "Alerts"));
    const list = h("div", "pick-list");
    f.alerts.forEach((a, i) => {
      const b = h("button", "chip", a.events.map(eventRef).join(" "));
      b.setAttribute("aria-label", `Alert ${i + 1}: event${a.events.length === 1 ? "" : "s"} ${a.events.map(eventRef).join(", ")}`);
      b.type = "button";
      b.dataset.idx = String(i);
      b.dataset.focus = `alert:${f.ruleId}:${i}`;
      b.title = a.events.map((e) => `${eventRef(e)} ${e.title}`).join("\n");
      b.setAttribute("aria-pressed", "false");
      b.addEventListener("click", () => show(i));
      list.append(b);
    });
    pick.append(list);
    if (f.count > f.alerts.length) pick.append(h("span", "note", `First ${nf.format(f.alerts.length)} of ${nf.format(f.count)} alerts listed.`));
    bodyEl.append(pick);
  }
  bodyEl.append(view);
  if (!lastResult.aligned) {
    view.append(h("p", "note", `Events: ${f.alerts[0].events.map(eventRef).join(", ")}`));
    return;
  }
  show(Math.min(selectedAlert.get(f.ruleId) || 0, f.alerts.length - 1));
}

function sequenceHeader(query, trees) {
  if (!trees || !trees.length) return "";
  return query
    .slice(0, trees[0].span.startUtf16)
    .replace(/\[\s*$/, "")
    .replace(/\s+/g, " ")
    .trim();
}

function gotoEventButton(ev) {
  const b = h("button", "btn tiny ghost", "Show in input");
  b.type = "button";
  b.addEventListener("click", () => {
    if (!ev.line) return;
    const off = offsetOf(state.events, ev.line, 1);
    if (off > el.events.value.length) return toast(`Line ${ev.line} is past the part of the input shown here`);
    revealInTextarea(el.events, off, off);
  });
  return b;
}

function eventHeader(ev, extra) {
  const head = h("div", "ev-head");
  if (extra) head.append(extra);
  head.append(h("span", "ev-no", `Event ${eventRef(ev)}`));
  if (ev.line) head.append(h("span", "ev-line", ev.where || `line ${ev.line}`));
  head.append(h("span", "ev-title", ev.title || ""), gotoEventButton(ev));
  const detail = ev.detail ? h("div", "ev-detail", ev.detail) : null;
  return [head, detail];
}

function jsonBlock(ev) {
  if (!ev.json) return null;
  const d = h("details", "json");
  d.append(h("summary", "", "Event JSON"), h("pre", "code", ev.json + (ev.cut ? "\n… (cut)" : "")));
  return d;
}

function renderAlert(view, data, r) {
  view.replaceChildren();
  const members = data.members || [];
  if (r.kind !== "event" && members.length) {
    const withTrees = members.find((m) => m.trees);
    const head = sequenceHeader(r.query, withTrees && withTrees.trees);
    const p = h("p", "seq-note", `${r.kind === "sequence" ? "Sequence" : "Sample"} of ${plural(members.length, "event")}`);
    if (head) p.append(": ", h("code", "", head));
    view.append(p);
  }
  for (const m of members) {
    const art = h("article", "member");
    const stageTag = m.stageLabel ? h("span", "stage", m.stageLabel) : null;
    art.append(...eventHeader(m, stageTag).filter(Boolean));
    if (m.error) {
      art.append(h("p", "banner", m.error));
    } else if (m.trees && m.trees.length) {
      const tree = m.stage !== undefined ? m.trees[m.stage] : m.trees[0];
      art.append(renderTree(r.query, tree, { label: m.stageLabel || "Query" }));
    }
    const j = jsonBlock(m);
    if (j) art.append(j);
    view.append(art);
  }
  if (data.truncated) view.append(h("p", "note", `Only the first ${members.length} events of this alert are explained.`));
}

function missSubline(m, r) {
  const sub = h("span", "hit-sub");
  if (!m.miss) {
    sub.append(h("span", "muted", "no valid event to compare with"));
    return sub;
  }
  if (!m.miss.sequence) {
    const st = m.miss.stages[0];
    const ff = failurePath(st.tree);
    const first = ff[ff.length - 1];
    if (first) {
      sub.append(h("code", "ff-inline", mark(first.result), oneLine(first.text, 90)));
      sub.append(" ", h("span", "muted", `— ${first.reason} · closest ${eventRef(st.event)}`));
    }
    return sub;
  }
  const stages = m.miss.stages.filter((s) => s.label !== "until");
  const allMatched = stages.every((s) => s.matched);
  stages.forEach((s, i) => {
    if (i) sub.append(" ");
    sub.append(h("span", `stage-pill ${s.matched ? "o-true" : "o-false"}`, mark(s.matched), `${s.label.replace("Stage ", "stage ")}${s.matched ? " " + eventRef(s.event) : ""}`));
  });
  sub.append(" ", h("span", "muted", allMatched ? "— every stage matched an event, but join keys, order or maxspan kept them apart" : "— a stage found no matching event"));
  return sub;
}

function oneLine(text, max) {
  const t = text.replace(/\/\*[\s\S]*?\*\//g, " ").replace(/\s+/g, " ").trim();
  return t.length > max ? t.slice(0, max - 1) + "…" : t;
}

function missItem(m) {
  const r = ruleFor(m.ruleId) || { name: m.ruleId, severity: "low", riskScore: 0, kind: "event", query: "" };
  const key = `miss:${m.ruleId}`;
  const li = h("li", `hit miss ${sevClass(r.severity)}`);
  li.dataset.rule = m.ruleId;
  const det = h("details", "hit-det");
  const closeness = m.miss ? Math.round(m.miss.score * 100) : 0;
  const meter = h("span", "meter", h("span", "meter-bar"));
  meter.title = `closest event met ${closeness}% of the clauses`;
  meter.setAttribute("aria-label", `${closeness}% of clauses met`);
  meter.firstChild.classList.add(`w${closeness >= 100 ? 100 : Math.min(90, Math.floor(closeness / 10) * 10)}`);
  const summary = h("summary", "hit-sum", sevBadge(r.severity), h("span", "hit-main", h("span", "hit-name", r.name), missSubline(m, r)), meter);
  return expandable(li, det, summary, key, (bodyEl) => buildMissBody(bodyEl, m, r));
}

function buildMissBody(bodyEl, m, r) {
  if (!m.miss) {
    bodyEl.append(h("p", "note", "There was no valid event to explain this rule against."), h("pre", "code", r.query.trim()));
    return;
  }
  if (m.miss.sequence) {
    const stages = m.miss.stages;
    const head = sequenceHeader(r.query, stages.map((s) => s.tree));
    const p = h("p", "seq-note", "Sequence");
    if (head) p.append(": ", h("code", "", head));
    bodyEl.append(p);
    const real = stages.filter((s) => s.label !== "until");
    if (real.every((s) => s.matched)) {
      bodyEl.append(
        h(
          "p",
          "callout",
          mark(null),
          "Every stage has an event that matches it, yet no sequence formed: the events must share the join key values (",
          h("code", "", "by"),
          " fields), arrive in order, and fall within ",
          h("code", "", "maxspan"),
          ". Compare the matching events below.",
        ),
      );
    }
  } else if (r.description) {
    const d = h("p", "desc", r.description);
    d.title = r.description;
    bodyEl.append(d);
  }
  for (const st of m.miss.stages) {
    const art = h("article", "member");
    const tag = m.miss.sequence ? h("span", `stage ${st.matched ? "o-true" : "o-false"}`, st.label) : null;
    const verdict = st.matched
      ? h("span", "verdict o-true", mark(true), "matched by")
      : h("span", "verdict o-false", mark(st.tree.result), m.miss.sequence ? "no match; closest" : "closest");
    const headParts = eventHeader(st.event, tag);
    headParts[0].insertBefore(verdict, headParts[0].children[tag ? 1 : 0]);
    art.append(...headParts.filter(Boolean));
    art.append(renderTree(r.query, st.tree, { nearMiss: true, label: m.miss.sequence ? st.label : "Query" }));
    const j = jsonBlock(st);
    if (j) art.append(j);
    bodyEl.append(art);
  }
}

// ---------------------------------------------------------------- samples

function loadSample(s) {
  loadText(s.text);
  el.samplesMenu.open = false;
  el.events.scrollTop = 0;
  toast(`Loaded sample: ${s.title}`);
}

function renderSamples() {
  const frag = document.createDocumentFragment();
  for (const s of SAMPLES) {
    const b = h(
      "button",
      "sample",
      h("span", "sample-top", h("span", `tag tag-${s.kind}`, s.kind), h("span", "sample-title", s.title)),
      h("span", "sample-desc", s.description),
    );
    b.type = "button";
    b.dataset.sample = s.id;
    b.addEventListener("click", () => loadSample(s));
    frag.append(h("li", "", b));
  }
  el.samplesList.replaceChildren(frag);
}

document.addEventListener("click", (e) => {
  if (el.samplesMenu.open && !el.samplesMenu.contains(e.target)) el.samplesMenu.open = false;
});
el.samplesMenu.addEventListener("keydown", (e) => {
  if (e.key === "Escape" && el.samplesMenu.open) {
    el.samplesMenu.open = false;
    el.samplesMenu.querySelector("summary").focus();
  }
  if ((e.key === "ArrowDown" || e.key === "ArrowUp") && el.samplesMenu.open) {
    const items = [...el.samplesList.querySelectorAll("button")];
    const i = items.indexOf(document.activeElement);
    const next = e.key === "ArrowDown" ? (i + 1) % items.length : (i - 1 + items.length) % items.length;
    items[next].focus();
    e.preventDefault();
  }
});
el.samplesMenu.addEventListener("toggle", () => {
  if (el.samplesMenu.open) {
    const first = el.samplesList.querySelector("button");
    if (first) requestAnimationFrame(() => first.focus());
  }
});

// ---------------------------------------------------------------- share (URL fragment)

function b64urlEncode(bytes) {
  let s = "";
  const CH = 0x8000;
  for (let i = 0; i < bytes.length; i += CH) s += String.fromCharCode.apply(null, bytes.subarray(i, i + CH));
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function b64urlDecode(str) {
  const b = atob(str.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((str.length + 3) % 4));
  const out = new Uint8Array(b.length);
  for (let i = 0; i < b.length; i++) out[i] = b.charCodeAt(i);
  return out;
}

async function pipe(bytes, stream) {
  const res = new Response(new Blob([bytes]).stream().pipeThrough(stream));
  return new Uint8Array(await res.arrayBuffer());
}

async function encodeState() {
  const json = JSON.stringify({ v: 1, e: state.events, c: state.custom, d: state.draft });
  const raw = new TextEncoder().encode(json);
  if (typeof CompressionStream === "function") {
    try {
      return "z." + b64urlEncode(await pipe(raw, new CompressionStream("deflate-raw")));
    } catch {
      /* fall through */
    }
  }
  return "p." + b64urlEncode(raw);
}

async function decodeState(frag) {
  const [kind, data] = [frag.slice(0, 2), frag.slice(2)];
  let bytes = b64urlDecode(data);
  if (kind === "z.") bytes = await pipe(bytes, new DecompressionStream("deflate-raw"));
  else if (kind !== "p.") throw new Error("unknown format");
  const obj = JSON.parse(new TextDecoder().decode(bytes));
  if (!obj || obj.v !== 1) throw new Error("unknown version");
  return {
    events: typeof obj.e === "string" ? obj.e : "",
    custom: Array.isArray(obj.c) ? obj.c.filter((x) => typeof x === "string") : [],
    draft: typeof obj.d === "string" ? obj.d : "",
  };
}

el.share.addEventListener("click", async () => {
  const frag = await encodeState();
  if (frag.length > 1_800_000) {
    toast(`Too large for a link (${fmtBytes(frag.length)} after compression). Share a smaller set of events.`);
    return;
  }
  history.replaceState(null, "", `#s=${frag}`);
  const url = location.href;
  try {
    await navigator.clipboard.writeText(url);
    toast(`Link copied (${fmtBytes(url.length)}). The state lives in the #fragment, which browsers never send to a server.`);
  } catch {
    toast("The link is in the address bar. The state lives in the #fragment, which browsers never send to a server.");
  }
});

async function restoreFromHash() {
  const m = /^#s=(.+)$/.exec(location.hash);
  if (!m) return false;
  try {
    const s = await decodeState(m[1]);
    state.custom = s.custom;
    setDraft(s.draft);
    loadText(s.events);
    return true;
  } catch (err) {
    toast(`Could not read the shared state: ${err.message}`);
    return false;
  }
}

window.addEventListener("hashchange", restoreFromHash);

// ---------------------------------------------------------------- keyboard

document.addEventListener("keydown", (e) => {
  if ((e.ctrlKey || e.metaKey) && e.key === "Enter") {
    e.preventDefault();
    if (!largeMode && el.events.value !== state.events) {
      state.events = el.events.value;
      state.eventsVersion++;
    }
    evaluateNow();
  }
});

// ---------------------------------------------------------------- start

renderSamples();
el.results = document.getElementById("results");
el.summary.textContent = "Loading the engine…";
el.resultsBody.replaceChildren(emptyState());
restoreFromHash().then((restored) => {
  if (!restored) updateSize();
});

if ("serviceWorker" in navigator && location.protocol !== "file:") {
  navigator.serviceWorker.register("sw.js").catch(() => {});
}

// For tests and debugging: the last result and a way to wait for idle.
window.eqlitePlayground = {
  get result() {
    return lastResult;
  },
  get busy() {
    return inFlight !== null || pending || timer !== null;
  },
  /** True when the results on screen are those of the current events and rules. */
  get settled() {
    return engineReady && inFlight === null && !pending && timer === null && !!lastResult && lastResult.eventsVersion === state.eventsVersion && lastResult.seq === seqOfLastEvaluate;
  },
};
