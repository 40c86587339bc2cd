// A command-line application built on the package: events (NDJSON, a JSON array or one object)
// on stdin, the alerts of the kubelet pack on stdout as JSON. It uses only `node:` modules that
// Node, Deno and Bun all provide, so runtimes.test.mjs runs the same file in each (and in an
// executable from `bun build --compile`).
import process from "node:process";
import { text } from "node:stream/consumers";
import { Engine } from "eqlite";

const engine = new Engine();
engine.loadDefaultRules();
const { alerts, errors } = engine.evaluateBatch(await text(process.stdin));
process.stdout.write(JSON.stringify({ alerts, errors }) + "\n");
