// sw.js: Conjure's service worker. It makes the site work offline after the
// first visit: at install it precaches the page, its scripts and styles, and
// the WebAssembly, wasm_exec.js and models that /assets.json names.
//
// Content-hashed files (/assets/…) never change under their name, so they
// are served from the cache first. Every other file is fetched from the
// network first (the server answers 304 when it is unchanged) and falls back
// to the cache offline; a new /assets.json also drops the hashed files it no
// longer names, so the cache holds one version of the site.

const CACHE = 'conjure-site-v1';
const HASHED = '/assets/';

// The files served under their own names (site/build's stableFiles, plus the
// page's modules and "/" itself).
const STABLE = [
  '/',
  '/index.html',
  '/app.js',
  '/app.css',
  '/frame.js',
  '/brush.js',
  '/pixels.js',
  '/view.js',
  '/conjure.js',
  '/conjure-worker.js',
  '/conjure-restore.js',
  '/manifest.webmanifest',
  '/icon.svg',
];

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    const resp = await fetch('/assets.json', { cache: 'no-cache' });
    if (!resp.ok) {
      throw new Error(`sw: /assets.json: HTTP ${resp.status}`);
    }
    const assets = await resp.clone().json();
    await cache.addAll([...STABLE, ...hashedURLs(assets)]);
    await cache.put('/assets.json', resp);
    await self.skipWaiting();
  })());
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith('conjure-site-') && name !== CACHE) {
        await caches.delete(name);
      }
    }
    await self.clients.claim();
  })());
});

self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== 'GET' || url.origin !== self.location.origin) {
    return;
  }
  event.respondWith(url.pathname.startsWith(HASHED) ? cacheFirst(event.request) : networkFirst(event.request, url));
});

// hashedURLs lists the content-hashed files that assets.json names, as paths.
function hashedURLs(assets) {
  return [assets.wasm, assets.wasmExec, assets.kernel, ...assets.models.map((m) => m.url)].map((u) => new URL(u, self.location.origin).pathname);
}

async function cacheFirst(request) {
  const cache = await caches.open(CACHE);
  const hit = await cache.match(request);
  if (hit) {
    return hit;
  }
  const resp = await fetch(request);
  if (resp.ok && resp.status === 200) {
    await cache.put(request, resp.clone());
  }
  return resp;
}

async function networkFirst(request, url) {
  const cache = await caches.open(CACHE);
  let resp;
  try {
    resp = await fetch(request);
  } catch (err) {
    const hit = await cache.match(request, { ignoreSearch: true }) ??
      (request.mode === 'navigate' ? await cache.match('/') : undefined);
    if (hit) {
      return hit;
    }
    throw err;
  }
  if (resp.ok && resp.status === 200 && resp.type === 'basic') {
    await cache.put(request, resp.clone());
    if (url.pathname === '/assets.json') {
      // A malformed manifest is conjure.js's error to report; keep the cache.
      await resp.clone().json().then((a) => prune(cache, hashedURLs(a)), () => {});
    }
  }
  return resp;
}

// prune deletes the cached hashed files that keep does not list.
async function prune(cache, keep) {
  for (const req of await cache.keys()) {
    const path = new URL(req.url).pathname;
    if (path.startsWith(HASHED) && !keep.includes(path)) {
      await cache.delete(req);
    }
  }
}
