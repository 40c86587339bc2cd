// What the page's modules share about the DOM: its elements, number and size formats, toasts and
// banners, the wavy underlines under text-area ranges, and dropping a file on a text area. Every
// value is set as text (textContent, createElement via explain-view.js's h); nothing is parsed as
// HTML.

import { h } from "./explain-view.js";

const $ = (id) => document.getElementById(id);
export const el = {
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

/** Above this many characters the text areas get no underline overlay. */
export const OVERLAY_LIMIT = 200_000;

export const nf = new Intl.NumberFormat("en-US");
export const plural = (n, one, many = one + "s") => `${nf.format(n)} ${n === 1 ? one : many}`;

export function fmtMs(ms) {
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  if (ms < 100) return `${ms.toFixed(1)} ms`;
  if (ms < 10000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(1)} s`;
}

export function fmtBytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

export function sevClass(sev) {
  return `sev-${(sev || "low").toLowerCase()}`;
}

export function sevBadge(sev) {
  return h("span", `sev ${sevClass(sev)}`, (sev || "?").toLowerCase());
}

const toastTimer = { id: null };
export function toast(text) {
  el.toast.textContent = text;
  el.toast.hidden = false;
  clearTimeout(toastTimer.id);
  toastTimer.id = setTimeout(() => (el.toast.hidden = true), 3500);
}

export function showBanner(text) {
  const b = h("div", "banner", text);
  b.setAttribute("role", "alert");
  el.resultsBody.replaceChildren(b);
}

// ---------------------------------------------------------------- underline overlays

export function syncScroll(ta) {
  const bd = ta === el.events ? el.eventsBackdrop : el.customBackdrop;
  bd.scrollTop = ta.scrollTop;
  bd.scrollLeft = ta.scrollLeft;
}

/** Draws wavy underlines under ranges of a text area (via a mirrored backdrop). */
export function paintOverlay(ta, backdrop, ranges) {
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

/** Calls `use(file)` with a file dropped on the text area `ta`. */
export function onFileDrop(ta, use) {
  ta.addEventListener("dragover", (e) => {
    if (e.dataTransfer && [...e.dataTransfer.types].includes("Files")) {
      e.preventDefault();
      ta.classList.add("drop");
    }
  });
  ta.addEventListener("dragleave", () => ta.classList.remove("drop"));
  ta.addEventListener("drop", (e) => {
    ta.classList.remove("drop");
    const files = e.dataTransfer ? [...e.dataTransfer.files] : [];
    if (!files.length) return;
    e.preventDefault();
    use(files[0]);
  });
}
