// The playground's state: one object that every part of the page reads and changes, and the
// URL-fragment form of what the analyst works on (events, saved rules, the draft rule), which is
// all a share link carries. Nothing here touches the DOM.

export const state = {
  // What the analyst works on (saved in a share link). `eventsVersion` counts changes of `events`,
  // so that a result can tell whether it still belongs to them.
  events: "",
  eventsVersion: 0,
  custom: [],
  draft: "",
  // Saved test cases: { ruleId, name, expect: "fires" | "silent", events } (see cases.js).
  tests: [],
  // True while the Events area shows only the beginning of a large input (see events-pane.js).
  largeMode: false,
  // What the engine said last: the loaded rules (and a key of their list, to re-render only when
  // it changes), and the last evaluation result.
  engineReady: false,
  /** The package has `Engine.synth` ("Show me"). */
  canSynth: false,
  rules: [],
  rulesKey: "",
  lastResult: null,
  // What the analyst opened or picked in the results, kept across re-renders.
  openKeys: new Set(),
  selectedAlert: new Map(),
  explainCache: new Map(),
};

export function ruleFor(id) {
  return state.rules.find((r) => r.ruleId === id);
}

// ---------------------------------------------------------------- URL fragment

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

export async function encodeState() {
  const json = JSON.stringify({ v: 1, e: state.events, c: state.custom, d: state.draft, t: state.tests });
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

export async function decodeState(frag) {
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
    tests: Array.isArray(obj.t)
      ? obj.t
          .filter((t) => t && typeof t.ruleId === "string" && typeof t.name === "string" && typeof t.events === "string")
          .map((t) => ({ ruleId: t.ruleId, name: t.name, expect: t.expect === "silent" ? "silent" : "fires", events: t.events }))
      : [],
  };
}
