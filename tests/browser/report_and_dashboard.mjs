// The report page in a real browser: Debian's chromium, driven by playwright-core, opens the
// static report (`qdgen report`) of a small text run and the live dashboard (`qdgen dashboard`),
// checks the DOM (the map's cells, a clicked elite's text and lineage, the curves, the table),
// that no request leaves the machine, saves screenshots, and sees a new iteration appear on
// the dashboard while `qdgen run` writes the store.
//
// Run by ctest (label browser) with QDGEN_BINARY, QDGEN_WRITE_TINY_MODEL, QDGEN_NPM_BROWSER
// (where scripts/npm-test-packages put playwright-core) and QDGEN_BROWSER_OUT (screenshots).
// Exit 77 (ctest: skipped) only when chromium is absent, unless QDGEN_BROWSER_REQUIRED is set
// (scripts/test), where that fails.
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

import { CHROMIUM, launchChromium } from "./chromium.mjs";

const started = Date.now();
if (!fs.existsSync(CHROMIUM)) {
  console.log(`browser tests skipped: ${CHROMIUM} is not installed (scripts/setup installs Debian's chromium)`);
  process.exit(process.env.QDGEN_BROWSER_REQUIRED ? 1 : 77);
}
for (const name of ["QDGEN_BINARY", "QDGEN_WRITE_TINY_MODEL", "QDGEN_NPM_BROWSER", "QDGEN_BROWSER_OUT"]) {
  if (!process.env[name]) throw new Error(`${name} is not set (ctest sets it; see tests/browser/CMakeLists.txt)`);
}
const QDGEN = process.env.QDGEN_BINARY;
const OUT = process.env.QDGEN_BROWSER_OUT;

const work = fs.mkdtempSync(path.join(os.tmpdir(), "qdgen-browser-"));
fs.mkdirSync(OUT, { recursive: true });
const children = [];
let browser;

function step(message) {
  console.log(`[${((Date.now() - started) / 1000).toFixed(1)} s] ${message}`);
}

function qdgen(...args) {
  return execFileSync(QDGEN, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

// A text run on the tiny random model: two label judges as measures, a grid with non-uniform
// edges around where this random model's judges land (measures outside are clipped to the
// edge cells).
function textConfig(iterations) {
  return {
    name: "browser-text",
    domain: {
      kind: "text",
      template: "Story:",
      seeds: ["once upon a time", "the end came at last", "a dog ran home", "rain on the roof"],
      generation: { max_tokens: 12, stop: ["\n"] },
      init: { iterations: 1, min_filled: 1 },
      quality: { kind: "label", instruction: "Is it good?", labels: [" yes", " no"] },
      measures: [
        { kind: "label", instruction: "Short or long?", labels: [" short", " long"] },
        { kind: "label", instruction: "Sad or happy?", labels: [" sad", " happy"] },
      ],
      penalties: { repetition_weight: 0.5, min_words: 1, max_words: 40 },
      vendi: { orders: [1, 2] },
    },
    archive: {
      type: "grid",
      dims: [{ edges: [0.88, 0.9, 0.92, 0.94, 0.95, 0.96, 0.97, 0.98, 0.99, 1] }, { edges: [0, 0.01, 0.02, 0.03, 0.04, 0.06, 0.08, 0.1, 0.15] }],
    },
    emitters: [{ kind: "mutation", parents: 0, batch: 8, operators: { lmx_near: 2, lmx_quality: 1 } }],
    model: { threads: 1 },
    store: { commit_seconds: 0 },
    iterations,
    seed: 5,
  };
}

function jsonLines(text) {
  return text.split("\n").filter((line) => line).map((line) => JSON.parse(line));
}

// `qdgen dashboard` in the background; resolves with its URL once it prints it.
function startDashboard(...stores) {
  const child = spawn(QDGEN, ["dashboard", ...stores, "--port", "0"], { stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  let output = "";
  child.exitPromise = new Promise((resolve) => child.on("exit", (code, signal) => resolve({ code, signal, output })));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no URL from qdgen dashboard: ${output}`)), 20000);
    const take = (data) => {
      output += data;
      const match = output.match(/^dashboard: (http:\/\/127\.0\.0\.1:\d+\/)$/m);
      if (match) {
        clearTimeout(timer);
        resolve({ child, url: match[1] });
      }
    };
    child.stdout.on("data", take);
    child.stderr.on("data", take);
    child.on("exit", () => reject(new Error(`qdgen dashboard exited: ${output}`)));
  });
}

// Every request the page makes must stay on this machine: its file, or the dashboard.
function guard(page, allowed) {
  const problems = [];
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(`console error: ${message.text()}`);
  });
  page.route("**/*", (route) => {
    const url = route.request().url();
    if (allowed.some((prefix) => url.startsWith(prefix))) return route.continue();
    problems.push(`request off the machine: ${url}`);
    return route.abort();
  });
  return problems;
}

// The DOM checks both homes of the page share: every elite a cell, a click opens its text and
// its lineage (the parent listed when there is one), curves with a line per run, the table.
async function checkPage(page, elites, candidates, label) {
  await page.waitForSelector("body[data-state=ready]", { timeout: 20000 });
  const cells = page.locator("#archive-map .cell[data-cell][data-id]");
  assert.equal(await cells.count(), elites.length, `${label}: one .cell per elite`);
  const stored = new Set(elites.map((e) => String(e.candidate_id)));
  for (const id of await cells.evaluateAll((nodes) => nodes.map((n) => n.getAttribute("data-id"))))
    assert.ok(stored.has(id), `${label}: cell of candidate ${id} is an elite`);

  // The elite with the most ancestry shows lineage best.
  const chosen = elites.find((e) => e.parent_ids.length > 0) || elites[0];
  const candidate = candidates.get(chosen.candidate_id);
  await page.click(`#archive-map .cell[data-id="${chosen.candidate_id}"]`);
  await page.waitForSelector(`#elite-detail[data-id="${chosen.candidate_id}"]`, { timeout: 10000 });
  assert.equal(await page.textContent("#detail-text"), chosen.solution, `${label}: the clicked elite's text`);
  const lineage = await page.locator("#lineage li").evaluateAll((nodes) =>
    nodes.map((n) => ({ id: n.getAttribute("data-id"), generation: n.getAttribute("data-generation") })),
  );
  assert.deepEqual(lineage[0], { id: String(chosen.candidate_id), generation: "0" }, `${label}: lineage starts at the elite`);
  for (const parent of candidate.parent_ids)
    assert.ok(lineage.some((l) => l.id === String(parent) && l.generation === "1"), `${label}: parent ${parent} in the lineage`);
  if (candidate.parent_ids.length > 0) {
    // Walking up: clicking the parent shows the parent.
    const parent = candidate.parent_ids[0];
    await page.click(`#lineage li[data-id="${parent}"][data-generation="1"]`);
    await page.waitForSelector(`#elite-detail[data-id="${parent}"]`, { timeout: 10000 });
    assert.equal(await page.textContent("#detail-text"), candidates.get(parent).solution, `${label}: the parent's text`);
  }

  const curves = await page.locator("#curves figure[data-metric]").evaluateAll((nodes) =>
    nodes.map((n) => ({
      metric: n.getAttribute("data-metric"),
      points: (n.querySelector('svg polyline[data-series="0"]')?.getAttribute("points") || "").trim().split(/\s+/).length,
    })),
  );
  const metrics = curves.map((c) => c.metric);
  for (const metric of ["qd_score", "coverage"]) assert.ok(metrics.includes(metric), `${label}: a ${metric} curve (${metrics})`);
  for (const curve of curves) assert.ok(curve.points >= 2, `${label}: ${curve.metric} has a line`);
  const rows = await page.locator("#elite-table tbody tr[data-id]").count();
  assert.equal(rows, Math.min(elites.length, 100), `${label}: the elite table's rows`);
}

async function main() {
  step("writing the tiny model and running a 6-iteration text run");
  const model = execFileSync(process.env.QDGEN_WRITE_TINY_MODEL, [path.join(work, "model")], { encoding: "utf8" }).trim();
  const configFile = path.join(work, "text.json");
  fs.writeFileSync(configFile, JSON.stringify(textConfig(6)));
  const store = path.join(work, "text.sqlite");
  qdgen("run", configFile, "--model", model, "--out", store);
  const elites = jsonLines(qdgen("export", store, "--what", "elites", "--format", "jsonl"));
  const candidates = new Map(
    jsonLines(qdgen("export", store, "--what", "candidates", "--format", "jsonl")).map((c) => [c.candidate_id, c]),
  );
  assert.ok(elites.length >= 2, `the run filled ${elites.length} cells`);
  const reportDir = path.join(work, "report");
  qdgen("report", store, "-o", reportDir);

  browser = await launchChromium(work);
  const context = browser.context;

  step("static report from file://");
  const report = await context.newPage();
  const reportUrl = "file://" + path.join(reportDir, "index.html");
  const reportProblems = guard(report, ["file://"]);
  await report.goto(reportUrl);
  await checkPage(report, elites, candidates, "report");
  await report.screenshot({ path: path.join(OUT, "report.png"), fullPage: true });
  assert.deepEqual(reportProblems, [], "report: no errors, no network");
  await report.close();

  step("dashboard of the finished run");
  const { child: finished, url } = await startDashboard(store);
  const dashboard = await context.newPage();
  const dashboardProblems = guard(dashboard, [url]);
  await dashboard.goto(url);
  await checkPage(dashboard, elites, candidates, "dashboard");
  await dashboard.screenshot({ path: path.join(OUT, "dashboard.png"), fullPage: true });
  assert.deepEqual(dashboardProblems, [], "dashboard: no errors, no request elsewhere");
  await dashboard.close();
  finished.kill("SIGTERM");
  assert.equal((await finished.exitPromise).code, 128 + 15, "dashboard: SIGTERM ends it like every command");

  step("live dashboard while qdgen run writes");
  const liveConfig = path.join(work, "live.json");
  fs.writeFileSync(liveConfig, JSON.stringify(textConfig(100000)));
  const liveStore = path.join(work, "live.sqlite");
  const run = spawn(QDGEN, ["run", liveConfig, "--model", model, "--out", liveStore], { stdio: "ignore" });
  children.push(run);
  const runExit = new Promise((resolve) => run.on("exit", (code) => resolve(code)));
  const waitUntil = Date.now() + 20000;
  while (!(fs.existsSync(liveStore) && jsonLines(qdgen("export", liveStore, "--what", "iterations", "--format", "jsonl")).length > 0)) {
    assert.ok(Date.now() < waitUntil, "the live run committed no iteration in 20 s");
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const { child: live, url: liveUrl } = await startDashboard(liveStore);
  const livePage = await context.newPage();
  const liveProblems = guard(livePage, [liveUrl]);
  await livePage.goto(liveUrl);
  await livePage.waitForSelector("body[data-state=ready]", { timeout: 20000 });
  // One snapshot of the status and the curve: a refresh may land between two separate reads.
  const snapshot = () => {
    const points = document.querySelector('#curves figure[data-metric="qd_score"] polyline[data-series="0"]').getAttribute("points");
    return { iteration: Number(document.querySelector("#run-status").getAttribute("data-iteration")), points: points.trim().split(/\s+/).length };
  };
  const before = await livePage.evaluate(snapshot);
  const first = before.iteration;
  await livePage.waitForFunction(
    (was) => {
      const points = document.querySelector('#curves figure[data-metric="qd_score"] polyline[data-series="0"]').getAttribute("points");
      const iteration = Number(document.querySelector("#run-status").getAttribute("data-iteration"));
      return iteration > was.iteration && points.trim().split(/\s+/).length > was.points;
    },
    before,
    { timeout: 15000 },
  );
  const later = (await livePage.evaluate(snapshot)).iteration;
  // The run's event stream brought it, not the timer (which waits 15 s while the stream is open).
  assert.equal(await livePage.getAttribute("#run-status", "data-updated-by"), "event", "live: refreshed by the event stream");
  step(`live: iteration ${first} -> ${later}`);
  await livePage.screenshot({ path: path.join(OUT, "live.png"), fullPage: true });
  assert.deepEqual(liveProblems, [], "live: no errors, no request elsewhere");
  run.kill("SIGINT");
  assert.equal(await runExit, 128 + 2, "the live run stops on SIGINT");
  live.kill("SIGTERM");
  assert.equal((await live.exitPromise).code, 128 + 15);
  step(`passed; screenshots in ${OUT}`);
}

try {
  await main();
} finally {
  if (browser) await browser.close();
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  fs.rmSync(work, { recursive: true, force: true });
}
