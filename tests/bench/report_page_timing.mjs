// How fast a qdgen report's page is in headless Chromium (Debian's chromium), driven over the
// DevTools protocol: time to ready (the data parsed, the map, curves and table drawn), the
// DOM's size, and the time of a sort, a text search and a click that opens an elite with its
// lineage (its shard file loaded). A bench tool: performance is never asserted in tests.
//   node --experimental-websocket tests/bench/report_page_timing.mjs REPORT/index.html [runs]
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const page = resolve(process.argv[2] || "report/index.html");
const repeats = Number(process.argv[3] || 3);
const port = 9300 + Math.floor(Math.random() * 500);
const profile = mkdtempSync(join(tmpdir(), "qdgen-timing-"));
const chromium = spawn("chromium", ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
  "--user-data-dir=" + profile, "--remote-debugging-port=" + port, "--window-size=1400,1000", "about:blank"], { stdio: "ignore" });

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function target() {
  for (let i = 0; i < 100; i++) {
    try {
      const list = await (await fetch("http://127.0.0.1:" + port + "/json/list")).json();
      const p = list.find((t) => t.type === "page");
      if (p) return p.webSocketDebuggerUrl;
    } catch (e) { /* not up yet */ }
    await sleep(100);
  }
  throw new Error("chromium did not start");
}

const socket = new WebSocket(await target());
await new Promise((r) => socket.addEventListener("open", r));
let next = 0;
const waiting = new Map();
socket.addEventListener("message", (m) => {
  const message = JSON.parse(m.data);
  if (message.id && waiting.has(message.id)) waiting.get(message.id)(message);
});
function send(method, params = {}) {
  const id = ++next;
  socket.send(JSON.stringify({ id, method, params }));
  return new Promise((r) => waiting.set(id, r));
}
async function evaluate(expression) {
  const reply = await send("Runtime.evaluate", { expression, awaitPromise: true, returnByValue: true });
  if (reply.result.exceptionDetails) throw new Error(JSON.stringify(reply.result.exceptionDetails));
  return reply.result.result.value;
}

const measure = `(async () => {
  const layout = () => document.body.offsetHeight;
  const time = async (f) => { const t = performance.now(); await f(); layout(); return Math.round(performance.now() - t); };
  const out = { ready_ms: Number(document.body.dataset.readyMs), dom_elements: document.getElementsByTagName("*").length,
                map_items: document.querySelectorAll("#archive-map [data-cell]").length, table_rows: document.querySelectorAll("#elite-table tbody tr").length };
  out.sort_ms = await time(() => document.querySelector('#elite-table th[data-sort="m0"]').click());
  out.search_ms = await time(() => { const s = document.getElementById("elite-search"); s.value = "1.5"; s.dispatchEvent(new Event("input")); });
  out.search_clear_ms = await time(() => { const s = document.getElementById("elite-search"); s.value = ""; s.dispatchEvent(new Event("input")); });
  const cells = document.querySelectorAll("#archive-map .cell");
  const cell = cells[Math.floor(cells.length / 2)];
  out.open_elite_ms = await time(async () => {
    cell.dispatchEvent(new MouseEvent("click", { bubbles: true }));
    while (!document.querySelector('#elite-detail[data-id="' + cell.dataset.id + '"] #lineage li')) await new Promise((r) => setTimeout(r, 5));
  });
  out.lineage_items = document.querySelectorAll("#lineage li").length;
  return out;
})()`;

const results = [];
for (let i = 0; i < repeats; i++) {
  await send("Network.setCacheDisabled", { cacheDisabled: true });
  await send("Page.navigate", { url: "file://" + page + "?" + i });
  for (let t = 0; t < 600; t++) {
    const state = await evaluate("document.body && document.body.dataset.state");
    if (state === "ready" || state === "error") break;
    await sleep(50);
  }
  results.push(await evaluate(measure));
}
console.log(JSON.stringify({ page, results }, null, 1));
socket.close();
chromium.kill();
await sleep(200);
rmSync(profile, { recursive: true, force: true });
