// Cloudflare Workers entry point (the "workerd" condition, which wrangler and workerd resolve).
// Workers forbid compiling WebAssembly from bytes at run time; a `.wasm` import is compiled at
// upload and arrives as a WebAssembly.Module, which may be instantiated synchronously.
import module from "./eqlite_bg.wasm";
import init, { initSync } from "./eqlite.js";

initSync({ module });

export * from "./eqlite.js";
export default init;
