// Turns wasm-bindgen's `--target web` output in pkg/ into the npm package: one glue module
// (eqlite.js) shared by an entry point per runtime, selected by package.json `exports` conditions.
//
//   node bindings/wasm/js/assemble.mjs <pkg dir> <version>
//
// The glue is edited in one place: before initialisation wasm-bindgen's `wasm` is undefined, so a
// call fails with "Cannot read properties of undefined (reading 'engine_new')". It becomes a
// proxy that throws "call init() first". Each edit must match exactly, so a wasm-bindgen upgrade
// that changes the glue stops the build instead of shipping an unguarded package.
import { copyFileSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const [out, version] = process.argv.slice(2);
if (!out || !/^\d+\.\d+\.\d+/.test(version ?? "")) {
  console.error("usage: node assemble.mjs <pkg dir> <version>");
  process.exit(2);
}
const here = path.dirname(fileURLToPath(import.meta.url));

function edit(text, from, to, count) {
  const found = text.split(from).length - 1;
  if (found !== count) {
    throw new Error(`assemble: expected ${count} × ${JSON.stringify(from)} in eqlite.js, found ${found}: wasm-bindgen's glue changed`);
  }
  return text.replaceAll(from, to);
}

const gluePath = path.join(out, "eqlite.js");
let glue = readFileSync(gluePath, "utf8");
const guard = `// Until init() or initSync() has run, any use of the module explains what is missing.
const NOT_INITIALISED = new Proxy({}, {
    get() {
        throw new Error("eqlite: call init() first: \`await init()\` once before using Engine, check or the other exports (browsers and bundlers; Node, Deno, Bun and Workers load the module on import)");
    },
});
let wasmModule, wasmInstance, wasm = NOT_INITIALISED;`;
glue = edit(glue, "let wasmModule, wasmInstance, wasm;", guard, 1);
glue = edit(glue, "if (wasm !== undefined) return wasm;", "if (wasm !== NOT_INITIALISED) return wasm;", 2);
writeFileSync(gluePath, glue);

const entries = ["node.js", "deno.js", "bun.js", "workerd.js"];
for (const f of [...entries, "eqlite_bg.wasm.d.ts"]) copyFileSync(path.join(here, f), path.join(out, f));

const pkg = {
  name: "eqlite",
  version,
  description:
    "Elastic EQL detection rules evaluated in the browser, at the edge and in Node: WebAssembly, with clause-by-clause explanations.",
  license: "(MIT OR Apache-2.0) AND Elastic-2.0",
  repository: { type: "git", url: "https://github.com/eqlite/eqlite" },
  keywords: ["eql", "elastic", "detection", "siem", "security", "wasm", "kubernetes"],
  type: "module",
  main: "./node.js",
  module: "./eqlite.js",
  types: "./eqlite.d.ts",
  // First match wins: Deno and Bun also match "node", and wrangler also matches "browser".
  exports: {
    ".": {
      types: "./eqlite.d.ts",
      workerd: "./workerd.js",
      deno: "./deno.js",
      bun: "./bun.js",
      browser: "./eqlite.js",
      node: "./node.js",
      default: "./eqlite.js",
    },
    "./eqlite_bg.wasm": { types: "./eqlite_bg.wasm.d.ts", default: "./eqlite_bg.wasm" },
    "./package.json": "./package.json",
  },
  files: ["eqlite.js", "eqlite.d.ts", "eqlite_bg.wasm", "eqlite_bg.wasm.d.ts", ...entries, "README.md", "LICENSE-MIT", "LICENSE-APACHE", "NOTICE", "rules/NOTICE"],
  // The runtime entry points instantiate the module on import; the browser glue has no side effects.
  sideEffects: entries.map((f) => `./${f}`),
  engines: { node: ">=18" },
};
writeFileSync(path.join(out, "package.json"), JSON.stringify(pkg, null, 2) + "\n");
