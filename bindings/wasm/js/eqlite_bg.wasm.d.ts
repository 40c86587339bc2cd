// Types of the `eqlite/eqlite_bg.wasm` subpath, for code that instantiates the module itself
// (`initSync({ module })`): a default import of a `.wasm` file is a compiled WebAssembly.Module in
// Cloudflare Workers (wrangler, workerd) and in the edge bundlers that follow them.
declare const module: WebAssembly.Module;
export default module;
