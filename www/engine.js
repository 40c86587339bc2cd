// The engine, in a module worker (worker.js): evaluations debounced as the analyst types, at most
// one in flight (one asked for meanwhile is sent when the answer arrives), explanations answered
// by promise, and the engine's status in the top bar.

import { state } from "./state.js";
import { el, showBanner } from "./ui.js";

const DEBOUNCE_MS = 250;

/** The conversation with the worker. */
const session = {
  worker: null,
  /** What the page does with the rules once the engine is ready, and with each result (`connect`). */
  handlers: /** @type {{ ready(rules: object[]): void, result(r: object): void } | null} */ (null),
  seq: 0,
  /** The seq of the evaluation the worker is computing, or null. */
  inFlight: null,
  /** Another evaluation was asked for meanwhile. */
  pending: false,
  /** The debounce timer of `schedule`. */
  timer: null,
  /** The events version the worker holds (events are sent only when they changed). */
  sentVersion: -1,
  /** The seq of the last evaluation sent. */
  lastEvaluate: -1,
  explainWaiters: new Map(),
};

function failed(text) {
  el.status.textContent = "Engine failed to load";
  el.status.classList.add("bad");
  showBanner(text);
}

function onMessage(e) {
  const m = e.data;
  if (m.type === "ready") {
    state.engineReady = true;
    state.canSynth = !!m.synth;
    el.status.textContent = `Engine ready · eqlite ${m.version}`;
    el.status.classList.add("ok");
    session.handlers.ready(m.rules);
    evaluateNow();
  } else if (m.type === "fatal") {
    failed(`The engine could not start: ${m.message}. Was the npm package built (bash scripts/build-wasm.sh) and copied to www/pkg?`);
  } else if (m.type === "result") {
    if (session.inFlight === m.seq) session.inFlight = null;
    session.sentVersion = m.eventsVersion;
    session.handlers.result(m);
    if (session.pending) {
      session.pending = false;
      evaluateNow();
    }
  } else if (m.type === "explained" || m.type === "synthesized") {
    const w = session.explainWaiters.get(m.seq);
    session.explainWaiters.delete(m.seq);
    if (w) w(m);
  } else if (m.type === "error") {
    if (session.inFlight === m.seq) session.inFlight = null;
    const w = session.explainWaiters.get(m.seq);
    if (w) {
      session.explainWaiters.delete(m.seq);
      w(null, m.message);
    } else {
      showBanner(`Evaluation failed: ${m.message}`);
    }
    if (session.pending) {
      session.pending = false;
      evaluateNow();
    }
  }
}

/** Starts the worker; `handlers.ready(rules)` and `handlers.result(result)` render what it says. */
export function connect(handlers) {
  session.handlers = handlers;
  session.worker = new Worker(new URL("./worker.js", import.meta.url), { type: "module" });
  session.worker.onmessage = onMessage;
  session.worker.onerror = (e) => failed(`The engine worker failed: ${e.message || "unknown error"}`);
}

/** Evaluates after a pause in typing. */
export function schedule() {
  clearTimeout(session.timer);
  el.summary.textContent = "Evaluating…";
  session.timer = setTimeout(evaluateNow, DEBOUNCE_MS);
}

export function evaluateNow() {
  clearTimeout(session.timer);
  session.timer = null;
  if (!state.engineReady) return;
  if (session.inFlight !== null) {
    session.pending = true;
    return;
  }
  const msg = {
    type: "evaluate",
    seq: ++session.seq,
    eventsVersion: state.eventsVersion,
    custom: state.custom.slice(),
    draft: state.draft,
    tests: state.tests.slice(),
  };
  if (session.sentVersion !== state.eventsVersion) msg.events = state.events;
  session.inFlight = msg.seq;
  session.lastEvaluate = msg.seq;
  el.summary.textContent = "Evaluating…";
  session.worker.postMessage(msg);
}

/** Sends a request answered by promise (an explanation, a synthesis). */
function ask(msg) {
  return new Promise((resolve, reject) => {
    const s = ++session.seq;
    session.explainWaiters.set(s, (m, err) => (m ? resolve(m) : reject(new Error(err))));
    session.worker.postMessage({ ...msg, seq: s });
  });
}

export function requestExplain(ruleId, positions) {
  return ask({ type: "explain", ruleId, positions });
}

/** Events that fire the rule, and its near misses: `{ ruleId, events, nearMisses }`. */
export async function requestSynth(ruleId) {
  return (await ask({ type: "synth", ruleId })).synthesis;
}

/** An evaluation is in flight, waiting, or about to be asked for. */
export function busy() {
  return session.inFlight !== null || session.pending || session.timer !== null;
}

/** The results on screen are those of the current events and rules. */
export function settled() {
  const r = state.lastResult;
  return state.engineReady && !busy() && !!r && r.eventsVersion === state.eventsVersion && r.seq === session.lastEvaluate;
}
