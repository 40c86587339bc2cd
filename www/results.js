// The Results panel: the rules that fired, each alert's events explained clause by clause
// (sequences stage by stage), and the rules that did not fire with the event that came closest.
// Bodies are built when first opened; what was open stays open when the results are rendered again.

import { requestExplain } from "./engine.js";
import { revealPosition } from "./events-pane.js";
import { failurePath } from "./explain-utils.js";
import { h, mark, renderTree } from "./explain-view.js";
import { SAMPLES } from "./samples.js";
import { loadSample } from "./samples-menu.js";
import { ruleFor, state } from "./state.js";
import { el, fmtMs, nf, plural, sevBadge, sevClass } from "./ui.js";

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

export function emptyState() {
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

export function renderResults(r) {
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
      state.openKeys.add(key);
      open();
    } else state.openKeys.delete(key);
  });
  if (state.openKeys.has(key)) {
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
    state.selectedAlert.set(f.ruleId, idx);
    for (const b of bodyEl.querySelectorAll(".alert-pick button")) b.setAttribute("aria-pressed", String(Number(b.dataset.idx) === idx));
    const alert = f.alerts[idx];
    const cacheKey = `${state.lastResult.eventsVersion}:${f.ruleId}:${alert.events.join(",")}`;
    let data = idx === 0 && f.first ? f.first : state.explainCache.get(cacheKey);
    if (!data) {
      view.replaceChildren(h("p", "loading", "Explaining…"));
      try {
        data = await requestExplain(f.ruleId, alert.events);
      } catch (err) {
        view.replaceChildren(h("p", "banner", `Could not explain: ${err.message}`));
        return;
      }
      // The events changed meanwhile: a newer result is on its way.
      if (!state.lastResult || data.eventsVersion !== state.lastResult.eventsVersion) return;
      state.explainCache.set(cacheKey, data);
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
  if (!state.lastResult.aligned) {
    view.append(h("p", "note", `Events: ${f.alerts[0].events.map(eventRef).join(", ")}`));
    return;
  }
  show(Math.min(state.selectedAlert.get(f.ruleId) || 0, f.alerts.length - 1));
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
    revealPosition(ev.line, 1);
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
  const allMatched = stages.every((s) => s.matched && !s.prevents);
  stages.forEach((s, i) => {
    if (i) sub.append(" ");
    const good = s.matched && !s.prevents;
    const tail = s.prevents ? ` ${eventRef(s.event)} prevents` : s.matched ? " " + eventRef(s.event) : "";
    sub.append(h("span", `stage-pill ${good ? "o-true" : "o-false"}`, mark(good), `${s.label.replace("Stage ", "stage ")}${tail}`));
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

/** What stopped a join key's furthest attempt, in the page's words (stages and events 1-based). */
function stopText(k) {
  const st = k.stopped;
  const stage = (i) => `stage ${i + 1}`;
  const ev = (p) => `#${p + 1}`;
  if (!st) return k.pending == null ? "no event filled the first stage" : `waiting: no event came for ${stage(k.pending)}`;
  if (st.kind === "maxspan") return `${ev(st.event)} would fill ${stage(k.pending)} but comes ${nf.format(st.exceededMs)} ms after maxspan`;
  if (st.kind === "until") return `${ev(st.event)} matched until, which ends the sequence`;
  if (st.kind === "missing") return `${ev(st.event)} matched missing-event ${stage(st.stage)}, which excludes the match`;
  return `${stage(st.stage)} needs ${st.needed} runs; ${st.seen} came`;
}

/** "Why did this sequence not fire?": per join key, the stages filled and what stopped it. */
function progressBlock(p) {
  const sec = h("section", "progress");
  sec.setAttribute("aria-label", "Sequence progress");
  const fields = p.keyFields.length ? p.keyFields.join(", ") : "no join key";
  sec.append(h("p", "seq-note", `How far it got, per ${fields} (events in ${p.timestampField} order):`));
  const ul = h("ul", "progress-keys");
  for (const k of p.keys) {
    const key = k.key.length ? k.key.map((v) => String(v)).join(", ") : "all events";
    const filled = k.filled.length ? k.filled.map((f) => `stage ${f.stage + 1} ${"#" + (f.event + 1)}`).join(", ") : "no stage filled";
    const li = h("li", "progress-key", h("code", "", key), `: ${filled}; `, h("span", "progress-stop", stopText(k)));
    ul.append(li);
  }
  sec.append(ul);
  if (p.keyCount > p.keys.length) sec.append(h("p", "note", `${nf.format(p.keyCount - p.keys.length)} more join keys not shown.`));
  return sec;
}

function buildMissBody(bodyEl, m, r) {
  if (m.progress && m.progress.keys.length) bodyEl.append(progressBlock(m.progress));
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
    if (real.every((s) => s.matched && !s.prevents)) {
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
    const tag = m.miss.sequence ? h("span", `stage ${st.matched && !st.prevents ? "o-true" : "o-false"}`, st.label) : null;
    const verdict = st.prevents
      ? h("span", "verdict o-false", mark(false), "prevents the match:")
      : st.matched
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
