// Node entry point (the "node" condition): reads the WebAssembly next to this file synchronously,
// so the package is ready when the import resolves and `init()` is an optional no-op.
import { readFileSync } from "node:fs";
import init, { initSync } from "./eqlite.js";

initSync({ module: readFileSync(new URL("./eqlite_bg.wasm", import.meta.url)) });

export * from "./eqlite.js";
export default init;
