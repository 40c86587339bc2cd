// The Events panel: the text area (with a read-only preview of large inputs, which a browser
// could not lay out quickly), pasting, opening and dropping files, the caret position, the size
// and form of the input, and its invalid items, listed and underlined where they are.

import { evaluateNow, schedule } from "./engine.js";
import { h, mark } from "./explain-view.js";
import { state } from "./state.js";
import { el, fmtBytes, nf, OVERLAY_LIMIT, onFileDrop, paintOverlay, plural, syncScroll, toast } from "./ui.js";

/** Sets the caret of a text area at a UTF-16 range and scrolls it into view. */
export function revealInTextarea(ta, start, end) {
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

/** UTF-16 offset of a 1-based (line, column-in-code-points) position, clamped to the text. */
function offsetOf(text, line, column) {
  let o = 0;
  for (let l = 1; l < line; l++) {
    const nl = text.indexOf("\n", o);
    if (nl < 0) return text.length;
    o = nl + 1;
  }
  let col = 1;
  while (col < column && o < text.length && text.charCodeAt(o) !== 10) {
    const c = text.charCodeAt(o);
    o += c >= 0xd800 && c <= 0xdbff ? 2 : 1;
    col++;
  }
  return Math.min(o, text.length);
}

/** Puts the caret at a line and column of the events, if that part is shown. */
export function revealPosition(line, column, width = 0) {
  const off = offsetOf(state.events, line, column);
  if (off > el.events.value.length) return toast(`Line ${line} is past the part of the input shown here`);
  revealInTextarea(el.events, off, off + width);
}

const caretFrame = { id: 0 };
function updateCaret() {
  cancelAnimationFrame(caretFrame.id);
  caretFrame.id = requestAnimationFrame(() => {
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

/** Puts `text` in the Events area (or its preview, when large) and evaluates it. */
export function loadText(text, { now = true } = {}) {
  showLarge(text.length > LARGE_INPUT, text);
  if (!state.largeMode) el.events.value = text;
  setEvents(text, { now });
}

function showLarge(on, text) {
  state.largeMode = on;
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
  state.explainCache.clear();
  state.selectedAlert.clear();
  el.eventsBackdrop.replaceChildren();
  updateSize();
  if (now) evaluateNow();
  else schedule();
}

export function updateSize() {
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

const FORM_NAME = { array: "JSON array", ndjson: "NDJSON", object: "JSON object", objects: "JSON objects", search: "search response", mixed: "NDJSON + search responses", empty: "" };

/** The invalid input items of a result, listed and underlined in the Events area. */
export function renderInputErrors(r) {
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
    b.addEventListener("click", () => revealPosition(e.line, e.column, 1));
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

async function loadEventsFile(file) {
  el.summary.textContent = `Reading ${file.name}…`;
  const text = await file.text();
  loadText(text);
  toast(`Loaded ${file.name} (${fmtBytes(file.size)})`);
}

/** Shows the input's form (NDJSON, JSON array, …) as the worker found it. */
export function renderForm(r) {
  el.eventsForm.textContent = FORM_NAME[r.form] || "";
  el.eventsForm.hidden = !FORM_NAME[r.form];
}

export function initEventsPane() {
  el.events.addEventListener("input", () => {
    if (!state.largeMode) setEvents(el.events.value);
  });
  el.events.addEventListener("paste", (e) => {
    const t = e.clipboardData ? e.clipboardData.getData("text/plain") : "";
    if (!t || (!state.largeMode && t.length <= LARGE_INPUT)) return;
    e.preventDefault();
    const ta = el.events;
    const full = state.largeMode ? t : ta.value.slice(0, ta.selectionStart) + t + ta.value.slice(ta.selectionEnd);
    loadText(full);
    toast(`Pasted ${fmtBytes(t.length)}`);
  });
  el.events.addEventListener("scroll", () => syncScroll(el.events));
  for (const ev of ["keyup", "click", "select"]) el.events.addEventListener(ev, updateCaret);

  el.eventsClear.addEventListener("click", () => {
    loadText("");
    el.events.focus();
  });

  el.eventsFile.addEventListener("change", () => {
    const f = el.eventsFile.files[0];
    el.eventsFile.value = "";
    if (f) loadEventsFile(f);
  });
  onFileDrop(el.events, loadEventsFile);
}
