// Bun entry point (the "bun" condition). The `type: "file"` import attribute makes `bun build
// --compile` embed the WebAssembly in the executable; the import then yields its path in the
// embedded file system, which readFileSync reads like a real one.
import { readFileSync } from "node:fs";
import wasmPath from "./eqlite_bg.wasm" with { type: "file" };
import init, { initSync } from "./eqlite.js";

initSync({ module: readFileSync(wasmPath) });

export * from "./eqlite.js";
export default init;
