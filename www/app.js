// The eqlite playground page: rules | events | results. The engine runs in a module worker
// (engine.js, worker.js); the page only renders. This module wires the parts together: state.js
// holds the one mutable state object, and each panel has its own module (rules-pane.js,
// events-pane.js, results.js, samples-menu.js, share.js; ui.js has what they share).

import { busy, connect, evaluateNow, settled } from "./engine.js";
import { initEventsPane, renderForm, renderInputErrors, updateSize } from "./events-pane.js";
import { emptyState, renderResults } from "./results.js";
import { initRulesPane, renderCustomState, setRules, updateRuleBadges } from "./rules-pane.js";
import { initSamplesMenu } from "./samples-menu.js";
import { initShare, restoreFromHash } from "./share.js";
import { state } from "./state.js";
import { initTestsPane, renderTests } from "./tests-pane.js";
import { el } from "./ui.js";

function onResult(r) {
  const sameEvents = r.eventsVersion === state.eventsVersion;
  state.lastResult = r;
  setRules(r.rules);
  renderCustomState(r.ruleDiagnostics);
  renderForm(r);
  if (sameEvents) renderInputErrors(r);
  renderResults(r);
  updateRuleBadges();
  renderTests(r.tests);
}

connect({ ready: setRules, result: onResult });
initRulesPane();
initEventsPane();
initSamplesMenu();
initShare();
initTestsPane();

// Ctrl+Enter evaluates at once, without waiting for the pause in typing.
document.addEventListener("keydown", (e) => {
  if ((e.ctrlKey || e.metaKey) && e.key === "Enter") {
    e.preventDefault();
    if (!state.largeMode && el.events.value !== state.events) {
      state.events = el.events.value;
      state.eventsVersion++;
    }
    evaluateNow();
  }
});

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
    return state.lastResult;
  },
  get busy() {
    return busy();
  },
  /** True when the results on screen are those of the current events and rules. */
  get settled() {
    return settled();
  },
};
