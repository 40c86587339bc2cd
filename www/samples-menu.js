// The Samples menu: scenarios (attacks, sequences, benign look-alikes) loaded into Events, with
// keyboard navigation.

import { h } from "./explain-view.js";
import { loadText } from "./events-pane.js";
import { SAMPLES } from "./samples.js";
import { el, toast } from "./ui.js";

export function loadSample(s) {
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

export function initSamplesMenu() {
  renderSamples();
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
}
