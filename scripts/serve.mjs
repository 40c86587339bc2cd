#!/usr/bin/env node
// A tiny static file server for the playground, without dependencies.
//
//   node scripts/serve.mjs [dir] [--port N] [--host H]      (PORT in the environment works too)
//
// Serves `dir` (default: www/) on 127.0.0.1, with the MIME types the page needs
// (application/wasm for streaming compilation, text/javascript for module scripts and workers),
// no directory listings and no way out of `dir` (.., encoded slashes, symlinks pointing outside).
// Port 0 picks a free port. If the requested port is taken, a free one is used instead.
// Prints the URL on stdout. Also importable: `const { url, close } = await serve({ root, port })`.

import { createServer } from "node:http";
import { createReadStream, promises as fs } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const MIME = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".wasm": "application/wasm",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".txt": "text/plain; charset=utf-8",
  ".md": "text/plain; charset=utf-8",
  ".toml": "text/plain; charset=utf-8",
  ".ts": "text/plain; charset=utf-8",
  ".webmanifest": "application/manifest+json",
};

function send(res, status, body, headers = {}) {
  res.writeHead(status, { "content-type": "text/plain; charset=utf-8", "content-length": Buffer.byteLength(body), ...headers });
  res.end(body);
}

/** Resolves a URL path inside `root`; null when it would leave it or is malformed. */
async function resolveInside(root, urlPath) {
  let decoded;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  if (decoded.includes("\0") || decoded.includes("\\")) return null;
  const segments = decoded.split("/").filter((s) => s !== "" && s !== ".");
  if (segments.some((s) => s === "..")) return null;
  let file = path.join(root, ...segments);
  let real;
  try {
    real = await fs.realpath(file);
  } catch {
    return { file, missing: true };
  }
  if (real !== root && !real.startsWith(root + path.sep)) return null;
  const st = await fs.stat(real);
  if (st.isDirectory()) {
    file = path.join(real, "index.html");
    try {
      const st2 = await fs.stat(file);
      return { file, size: st2.size, mtime: st2.mtime };
    } catch {
      return { file, missing: true };
    }
  }
  return { file: real, size: st.size, mtime: st.mtime };
}

/**
 * Starts the server. Options: root (directory), port (0 = any free port; default 8080),
 * host (default 127.0.0.1), fallback (true: if the port is taken, use a free one), quiet.
 * Returns { server, port, url, close }.
 */
export async function serve({ root = "www", port = 8080, host = "127.0.0.1", fallback = true, quiet = true } = {}) {
  const rootDir = await fs.realpath(path.resolve(root));
  const server = createServer(async (req, res) => {
    try {
      if (req.method !== "GET" && req.method !== "HEAD") {
        return send(res, 405, "method not allowed\n", { allow: "GET, HEAD" });
      }
      const urlPath = (req.url || "/").split(/[?#]/, 1)[0];
      if (!urlPath.startsWith("/")) return send(res, 400, "bad request\n");
      const hit = await resolveInside(rootDir, urlPath);
      if (!hit) return send(res, 403, "forbidden\n");
      if (hit.missing) return send(res, 404, "not found\n");
      const type = MIME[path.extname(hit.file).toLowerCase()] || "application/octet-stream";
      const headers = {
        "content-type": type,
        "content-length": hit.size,
        "last-modified": hit.mtime.toUTCString(),
        "cache-control": "no-cache",
        "x-content-type-options": "nosniff",
        "referrer-policy": "no-referrer",
        "cross-origin-opener-policy": "same-origin",
      };
      if (req.headers["if-modified-since"] && new Date(req.headers["if-modified-since"]) >= new Date(hit.mtime.toUTCString())) {
        res.writeHead(304, { "last-modified": headers["last-modified"], "cache-control": "no-cache" });
        return res.end();
      }
      res.writeHead(200, headers);
      if (req.method === "HEAD") return res.end();
      const stream = createReadStream(hit.file);
      stream.on("error", () => res.destroy());
      stream.pipe(res);
    } catch (err) {
      if (!res.headersSent) send(res, 500, "internal error\n");
      else res.destroy();
      if (!quiet) console.error(err);
    }
  });

  const listen = (p) =>
    new Promise((resolve, reject) => {
      const onError = (err) => {
        server.off("listening", onListening);
        reject(err);
      };
      const onListening = () => {
        server.off("error", onError);
        resolve();
      };
      server.once("error", onError);
      server.once("listening", onListening);
      server.listen(p, host);
    });

  try {
    await listen(port);
  } catch (err) {
    if (err.code !== "EADDRINUSE" || !fallback || port === 0) throw err;
    if (!quiet) console.error(`serve: port ${port} is taken; using a free one`);
    await listen(0);
  }
  const actual = server.address().port;
  const shownHost = host.includes(":") ? `[${host}]` : host;
  const url = `http://${shownHost}:${actual}/`;
  return {
    server,
    port: actual,
    url,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

function parseArgs(argv) {
  const out = { root: null, port: undefined, host: undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--port" || a === "-p") out.port = Number(argv[++i]);
    else if (a.startsWith("--port=")) out.port = Number(a.slice(7));
    else if (a === "--host") out.host = argv[++i];
    else if (a.startsWith("--host=")) out.host = a.slice(7);
    else if (a === "-h" || a === "--help") out.help = true;
    else out.root = a;
  }
  return out;
}

const isMain = process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  const args = parseArgs(process.argv.slice(2));
  if (args.help) {
    console.log("usage: node scripts/serve.mjs [dir] [--port N] [--host 127.0.0.1]   (env PORT also sets the port)");
    process.exit(0);
  }
  const here = path.dirname(fileURLToPath(import.meta.url));
  const root = args.root ?? path.join(here, "..", "www");
  const envPort = process.env.PORT !== undefined && process.env.PORT !== "" ? Number(process.env.PORT) : undefined;
  const port = args.port ?? envPort ?? 8080;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`serve: bad port ${port}`);
    process.exit(2);
  }
  try {
    const { url } = await serve({ root, port, host: args.host ?? "127.0.0.1", quiet: false });
    console.log(`Serving ${path.resolve(root)} at ${url}`);
  } catch (err) {
    console.error(`serve: ${err.message}`);
    process.exit(1);
  }
  const stop = () => process.exit(0);
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}
