// Deno entry point (the "deno" condition). A source-phase import hands over the compiled module
// through Deno's module loader, which needs no permission, where reading or fetching the file
// would need --allow-read.
import source module from "./eqlite_bg.wasm";
import init, { initSync } from "./eqlite.js";

initSync({ module });

export * from "./eqlite.js";
export default init;
