// Screenshots the content area of BBB's own player (a built bbb-playback) at given times, in headless Debian chromium.
//
// Usage: node shoot.mjs PLAYER_DIR SITE_DIR RECORD_ID OUT_DIR TIME...
//   PLAYER_DIR: the player build (index.html, static/...), served at /playback/presentation/2.3/
//   SITE_DIR:   holds presentation/RECORD_ID/ (a published recording), served at /presentation/
// Writes OUT_DIR/player-TIME.png (the slide/whiteboard area only) and prints one JSON line per time:
// {"t":…, "png":…, "aspect": width/height of the content shown, "css": [x,y,w,h] (the clip shot, whole CSS
// pixels), "rect": [x,y,w,h] (the content's own rectangle, fractional: the clip is it rounded)}.
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { chromium } from 'playwright-core';

const [playerDir, siteDir, recordId, outDir, ...timeArgs] = process.argv.slice(2);
if (!playerDir || !siteDir || !recordId || !outDir || timeArgs.length === 0) {
  console.error('usage: node shoot.mjs PLAYER_DIR SITE_DIR RECORD_ID OUT_DIR TIME...');
  process.exit(2);
}
const BASE = '/playback/presentation/2.3';
const TYPES = {
  '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.json': 'application/json',
  '.svg': 'image/svg+xml', '.png': 'image/png', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg',
  '.xml': 'application/xml', '.webm': 'video/webm', '.mp4': 'video/mp4', '.woff': 'font/woff',
  '.woff2': 'font/woff2', '.ttf': 'font/ttf', '.ico': 'image/x-icon', '.vtt': 'text/vtt',
};

// The file a request path names, or null; the player's routes fall back to its index.html.
function resolve(urlPath) {
  const p = decodeURIComponent(urlPath.split('?')[0]);
  if (p.includes('..')) return null;
  if (p.startsWith(BASE + '/')) {
    const f = path.join(playerDir, p.slice(BASE.length));
    if (fs.existsSync(f) && fs.statSync(f).isFile()) return f;
    return path.join(playerDir, 'index.html');
  }
  if (p.startsWith('/presentation/')) {
    const f = path.join(siteDir, p);
    if (fs.existsSync(f) && fs.statSync(f).isFile()) return f;
  }
  return null;
}

// A static server with HEAD and byte ranges (the media element seeks by ranges).
const server = http.createServer((req, res) => {
  const file = resolve(req.url);
  if (!file) { res.writeHead(404); res.end(); return; }
  const size = fs.statSync(file).size;
  const headers = {
    'Content-Type': TYPES[path.extname(file).toLowerCase()] || 'application/octet-stream',
    'Accept-Ranges': 'bytes',
    'Cache-Control': 'no-store',
  };
  const m = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range || '');
  let start = 0, end = size - 1, status = 200;
  if (m) {
    start = m[1] === '' ? Math.max(0, size - Number(m[2])) : Number(m[1]);
    end = m[1] !== '' && m[2] !== '' ? Math.min(Number(m[2]), size - 1) : size - 1;
    if (start > end) { res.writeHead(416, { 'Content-Range': `bytes */${size}` }); res.end(); return; }
    status = 206;
    headers['Content-Range'] = `bytes ${start}-${end}/${size}`;
  }
  headers['Content-Length'] = end - start + 1;
  res.writeHead(status, headers);
  if (req.method === 'HEAD') { res.end(); return; }
  fs.createReadStream(file, { start, end }).pipe(res);
});
await new Promise(r => server.listen(0, '127.0.0.1', r));
const port = server.address().port;

const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'player-compare-chromium-'));
// A fresh profile each run (playwright passes it as --user-data-dir).
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--autoplay-policy=no-user-gesture-required'],
  viewport: { width: 1280, height: 720 },
  deviceScaleFactor: 1,
});

// BBB 3.0 (tldraw v2) recordings: the player loads tldraw's fonts (and icons, translations) from
// https://unpkg.com/@bigbluebutton/assets@VERSION/...; without them it shows "Could not load assets".
// Chromium runs offline here, so they are answered from tldraw's own asset package of the same
// generation (@tldraw/assets 2.0.0-alpha.19, in node_modules: npm has no @bigbluebutton/assets);
// anything it lacks is a 404.
const tldrawAssets = path.join(path.dirname(new URL(import.meta.url).pathname), 'node_modules', '@tldraw', 'assets');
await context.route(/^https:\/\/unpkg\.com\/@bigbluebutton\/assets@[^/]+\//, route => {
  const rel = decodeURIComponent(new URL(route.request().url()).pathname).replace(/^\/@bigbluebutton\/assets@[^/]+\//, '');
  const file = path.join(tldrawAssets, rel);
  if (rel.includes('..') || !fs.existsSync(file) || !fs.statSync(file).isFile()) return route.fulfill({ status: 404 });
  return route.fulfill({ path: file, contentType: TYPES[path.extname(file).toLowerCase()] || 'application/octet-stream' });
});

// The content rectangle in CSS pixels: the fitted viewBox of the classic SVG presentation,
// or the sized box tldraw (v1, v2) recordings get; plus the aspect of what is shown.
function contentRect() {
  const wrap = document.querySelector('#presentation');
  if (!wrap) return null;
  const inner = wrap.querySelector(':scope > .presentation');
  const svg = inner && inner.querySelector(':scope > svg[viewBox]');
  if (svg) {
    const vb = svg.getAttribute('viewBox').split(/[\s,]+/).map(Number);
    const r = svg.getBoundingClientRect();
    if (!(vb[2] > 0 && vb[3] > 0)) return null;
    const s = Math.min(r.width / vb[2], r.height / vb[3]);
    const w = vb[2] * s, h = vb[3] * s;
    return { x: r.x + (r.width - w) / 2, y: r.y + (r.height - h) / 2, w, h, aspect: vb[2] / vb[3], kind: 'svg' };
  }
  if (!inner) return null;
  const r = inner.getBoundingClientRect();
  if (!(r.width > 0 && r.height > 0)) return null;
  return { x: r.x, y: r.y, w: r.width, h: r.height, aspect: r.width / r.height, kind: 'tldraw' };
}

const page = context.pages()[0] || await context.newPage();
page.on('pageerror', e => console.error('player page error:', e.message));
const layout = process.env.PLAYER_LAYOUT || 'content';
await page.goto(`http://127.0.0.1:${port}${BASE}/${recordId}?l=${layout}`, { waitUntil: 'load' });
await page.waitForSelector('#presentation', { timeout: 60000 });
await page.waitForFunction(() => {
  const v = document.querySelector('video');
  return v && v.readyState >= 1 && v.duration > 0;
}, null, { timeout: 60000 });
const settle = Number(process.env.SETTLE_MS || 1500);
// Hide video.js's overlays (big play button, spinner, control bar): a playing player shows none of them
// over the content.
await page.addStyleTag({ content: '.vjs-big-play-button, .vjs-loading-spinner, .vjs-control-bar { display: none !important; }' });
await page.mouse.move(0, 0);
// Seek the player's media element (what its own seek bar does) and wait for "seeked":
// the player then redraws the presentation for that time.
const seek = t => page.evaluate(t => new Promise(resolve => {
  const v = document.querySelector('video');
  v.pause();
  const done = () => { v.removeEventListener('seeked', done); resolve(); };
  v.addEventListener('seeked', done);
  v.currentTime = t;
}), t);
// A warm-up seek, not shot: tldraw v2 recordings show the BBB logo until the editor has loaded
// its fonts, which the first settle did not always cover.
await seek(Number(timeArgs[0]));
await page.waitForTimeout(2 * settle);
for (const arg of timeArgs) {
  const t = Number(arg);
  await seek(t);
  await page.waitForTimeout(settle);
  await page.evaluate(() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r))));
  const rect = await page.evaluate(contentRect);
  const now = await page.evaluate(() => document.querySelector('video').currentTime);
  const png = path.join(outDir, `player-${arg}.png`);
  if (process.env.FULL_PAGE) await page.screenshot({ path: path.join(outDir, `page-${arg}.png`) });
  if (!rect) {
    console.log(JSON.stringify({ t, png: null, error: 'no content area shown' }));
    continue;
  }
  const clip = {
    x: Math.round(rect.x), y: Math.round(rect.y), width: Math.round(rect.w), height: Math.round(rect.h),
  };
  await page.screenshot({ path: png, clip });
  console.log(JSON.stringify({
    t, now, png, aspect: rect.aspect, kind: rect.kind, css: [clip.x, clip.y, clip.width, clip.height],
    rect: [rect.x, rect.y, rect.w, rect.h],
  }));
}
await context.close();
server.close();
fs.rmSync(profile, { recursive: true, force: true });
