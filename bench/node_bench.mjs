// Baseline (3): the npm package (wasm) in Node against JSON.parse of the same lines, in the same
// process and the same loop structure.
//
//   node bench/node_bench.mjs EVENTS.ndjson [--max-events N] [--reps R] [--chunk C]
//
// The file is read in chunks of C lines (reading is not timed). For every chunk, three loops run
// over the same lines, in an order that rotates from chunk to chunk:
//   parse     JSON.parse(line)                     (the objects are kept for `object`)
//   string    engine.evaluate(line)                (the wasm reads the JSON text itself)
//   object    engine.evaluate(JSON.parse(line))'s second half: evaluate(obj) on parsed objects
//   batch     engine.evaluateBatch(ndjson) once per chunk, the chunk's lines joined beforehand
//             (sequences included: the whole pack runs on a fresh stream)
// The engine has the kubelet pack loaded (evaluate runs its 11 single-event rules). A warm-up
// pass over the first chunk runs before timing. Prints one JSON document on stdout.

import { openSync, readSync, closeSync } from "node:fs";
import { Engine, version } from "../pkg/node.js";

const args = process.argv.slice(2);
const file = args.find((a, i) => !a.startsWith("--") && !(i > 0 && args[i - 1].startsWith("--")));
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const maxEvents = opt("--max-events", 50_000);
const reps = opt("--reps", 3);
const chunk = opt("--chunk", 2000);
if (!file) {
  console.error("usage: node bench/node_bench.mjs EVENTS.ndjson [--max-events N] [--reps R] [--chunk C]");
  process.exit(2);
}

/** Yields arrays of at most `n` lines, reading the file in 1 MiB blocks. */
function* chunks(path, n, max) {
  const fd = openSync(path, "r");
  const buf = Buffer.alloc(1 << 20);
  let rest = "";
  let lines = [];
  let total = 0;
  try {
    for (;;) {
      const got = readSync(fd, buf, 0, buf.length, null);
      const text = rest + (got > 0 ? buf.toString("utf8", 0, got) : "");
      const parts = text.split("\n");
      rest = got > 0 ? parts.pop() : "";
      for (const l of parts) {
        if (l.trim() === "") continue;
        lines.push(l);
        total++;
        if (lines.length === n || total === max) {
          yield lines;
          lines = [];
        }
        if (total === max) return;
      }
      if (got === 0) break;
    }
    if (lines.length) yield lines;
  } finally {
    closeSync(fd);
  }
}

const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

const engine = new Engine();
const rules = engine.loadDefaultRules();

function runOnce(warm) {
  const t = { parse: [0, 0], string: [0, 0], object: [0, 0], batch: [0, 0] };
  const hits = { string: 0, object: 0, batch: 0 };
  let events = 0;
  let bytes = 0;
  let k = 0;
  const time = (phase, fn) => {
    const c0 = cpu();
    const w0 = performance.now();
    const r = fn();
    t[phase][0] += cpu() - c0;
    t[phase][1] += (performance.now() - w0) / 1000;
    return r;
  };
  for (const lines of chunks(file, chunk, warm ? chunk : maxEvents)) {
    let objs = null;
    const ndjson = lines.join("\n");
    const loops = {
      parse: () => {
        objs = time("parse", () => {
          const out = new Array(lines.length);
          for (let i = 0; i < lines.length; i++) out[i] = JSON.parse(lines[i]);
          return out;
        });
      },
      string: () => {
        hits.string += time("string", () => {
          let h = 0;
          for (let i = 0; i < lines.length; i++) h += engine.evaluate(lines[i]).length;
          return h;
        });
      },
      object: () => {
        if (!objs) loops.parse();
        hits.object += time("object", () => {
          let h = 0;
          for (let i = 0; i < objs.length; i++) h += engine.evaluate(objs[i]).length;
          return h;
        });
      },
      batch: () => {
        hits.batch += time("batch", () => engine.evaluateBatch(ndjson).alerts.length);
      },
    };
    const orders = [
      ["parse", "string", "object", "batch"],
      ["string", "batch", "parse", "object"],
      ["batch", "parse", "object", "string"],
    ];
    for (const name of orders[k++ % orders.length]) loops[name]();
    events += lines.length;
    for (const l of lines) bytes += Buffer.byteLength(l) + 1;
  }
  return { events, bytes, seconds: t, hits };
}

runOnce(true);
runOnce(true);
const runs = [];
for (let r = 0; r < reps; r++) runs.push(runOnce(false));
console.log(
  JSON.stringify({
    node: process.version,
    eqlite: version(),
    rules,
    runs,
    maxrss_kb: process.resourceUsage().maxRSS,
  }),
);
