// Offline support: after one visit the playground works without a network. Network first (so a
// rebuilt page or engine is picked up at once), the cache when offline. Same-origin GETs only;
// nothing the analyst pastes is ever sent anywhere (it stays in the page and the URL fragment).

const CACHE = "eqlite-playground-v3";
const SHELL = [
  "./",
  "index.html",
  "style.css",
  "app.js",
  "state.js",
  "ui.js",
  "engine.js",
  "rules-pane.js",
  "events-pane.js",
  "results.js",
  "samples-menu.js",
  "share.js",
  "tests-pane.js",
  "cases.js",
  "worker.js",
  "explain-utils.js",
  "explain-view.js",
  "samples.js",
  "favicon.svg",
  "pkg/eqlite.js",
  "pkg/eqlite_bg.wasm",
];

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((c) => Promise.all(SHELL.map((u) => c.add(new Request(u, { cache: "no-cache" })).catch(() => {}))))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const req = event.request;
  if (req.method !== "GET" || new URL(req.url).origin !== self.location.origin) return;
  event.respondWith(
    fetch(req)
      .then((res) => {
        if (res.ok) {
          const copy = res.clone();
          caches.open(CACHE).then((c) => c.put(req, copy)).catch(() => {});
        }
        return res;
      })
      .catch(() => caches.match(req, { ignoreSearch: true }).then((hit) => hit || Response.error())),
  );
});
