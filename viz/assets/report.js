// The qdgen report page: the archive map, the curves and the elite browser of one or more runs.
// It is the same page in both of its homes:
//   static report (qdgen report): window.QDGEN_API is unset; the runs, their elites and their
//     iterations are embedded in <script id="qdgen-data" type="application/json">, and candidate
//     details come from shard files next to index.html (candidates/<run>/<shard>.js, loaded by
//     <script> tags on demand, which works from file://; each calls QDGEN_SHARD(run, shard, [...])).
//   live dashboard (qdgen dashboard): the server sets window.QDGEN_API (e.g. "/api") and the page
//     reads GET {API}/runs, {API}/runs/{id}/elites, {API}/runs/{id}/iterations?since=K and
//     {API}/runs/{id}/candidates/{cid}; it refreshes when the shown run's server-sent event
//     stream ({API}/runs/{id}/events) says the run moved, and polls every 2 s while that
//     stream is down or other runs are shown beside it.
// Every read goes through one data-source object (staticSource / apiSource); the JSON shapes
// are those of viz/include/qdgen/viz/run_json.hpp.
//
// Stable DOM hooks (tests and users may rely on them):
//   #run-select                      the run shown in the map and the table (option value = run id)
//   #run-status                      the shown run's status line; data-iteration = last iteration,
//                                    data-updated-by = what started the last live refresh
//                                    ("event" from the stream, "poll" from the timer)
//   #archive-map                     the map's <svg>; data-run = run id, data-type = grid|cvt|novelty
//     .cell[data-cell][data-id]      a filled cell (grid: data-cell="i,j" bins; CVT: the cell number),
//                                    data-id = its elite's candidate id, data-objective
//     .empty[data-cell]              an empty CVT cell (grids draw empty space as one .empty-bg rect)
//     .member[data-cell][data-id]    a novelty member (or, above 2 measures, an elite as a point)
//     .colour-bar, .empty-swatch     the colour bar (.colour-min, .colour-max labels) and empty's key
//   #map-x, #map-y                   which measures the map shows (shown above 2 measures)
//   #map-tooltip                     the hovered cell's preview
//   #elite-detail                    the detail panel; data-id = the candidate shown, set once
//                                    its fields and lineage are drawn
//     #detail-fields dt/dd           id, objective, measures, iteration, operator, parents, outcome
//     #detail-text                   the text (or the vector as JSON)
//     #detail-judges tr[data-judge]  the judges' outputs; #detail-mixture tr[data-expert] the mixture
//     #lineage li[data-id][data-generation]   the lineage, the candidate first; click one to show it
//                                    (li.missing: a parent the store does not hold)
//   #curves figure[data-metric]      one per metric, its <svg> holds polyline[data-series=run id]
//   #curves-legend li[data-series]   the legend: run name (file)
//   #elite-table                     th[data-sort=key] sorts (again: reverses); tbody tr[data-id][data-cell]
//   #elite-search, #elite-op         filter rows by text (substring, any case) and by operator
//   #elite-count, #elite-prev, #elite-next   which rows are shown (pages of 100)
//   document.body.dataset.state      "loading", "ready" or "error" (#run-status says why);
//                                    dataset.readyMs: milliseconds from navigation to ready
//   location.hash #run=<id>&candidate=<id>   opens with that run and candidate shown
(function () {
  "use strict";

  const PAGE = window.QDGEN_PAGE || {};
  const SVG_NS = "http://www.w3.org/2000/svg";
  const LINEAGE_LIMIT = 200;
  const PAGE_ROWS = 100;

  // ---------------------------------------------------------------- data sources

  function staticSource(data) {
    const byId = new Map(data.runs.map((r) => [r.run.id, r]));
    const shards = new Map(); // "run/shard" -> Promise<Map<id, candidate>>
    const arrived = new Map(); // "run/shard" -> resolve
    window.QDGEN_SHARD = function (runId, shard, candidates) {
      const key = runId + "/" + shard;
      const resolve = arrived.get(key);
      if (resolve) resolve(new Map(candidates.map((c) => [c.id, c])));
    };
    function shardFile(run, shard) {
      return run.shards.dir + "/" + String(shard).padStart(5, "0") + ".js";
    }
    function loadShard(runId, shard) {
      const key = runId + "/" + shard;
      if (!shards.has(key)) {
        const run = byId.get(runId);
        shards.set(key, new Promise((resolve, reject) => {
          if (!run || !run.shards.present.includes(shard)) return resolve(new Map());
          arrived.set(key, resolve);
          const script = document.createElement("script");
          script.src = shardFile(run, shard);
          script.onerror = () => reject(new Error("cannot load " + script.src + " (is it beside index.html?)"));
          document.head.appendChild(script);
        }));
      }
      return shards.get(key);
    }
    async function stored(runId, id) {
      const run = byId.get(runId);
      const shard = Math.floor(id / run.shards.size);
      return (await loadShard(runId, shard)).get(id) || null;
    }
    return {
      live: false,
      runs: async () => data.runs.map((r) => r.run),
      elites: async (runId) => byId.get(runId).elites,
      iterations: async (runId, since) => byId.get(runId).iterations.filter((it) => it.iteration > since),
      // The candidate and its lineage, breadth first, each ancestor once (as RunReader::lineage).
      async candidate(runId, id) {
        const first = await stored(runId, id);
        if (!first) return null;
        const lineage = [];
        const seen = new Set();
        const queue = [[id, 0]];
        while (queue.length && lineage.length < LINEAGE_LIMIT) {
          const [next, generation] = queue.shift();
          if (seen.has(next)) continue;
          seen.add(next);
          const c = next === id ? first : await stored(runId, next);
          if (c) {
            lineage.push({ id: next, generation, stored: true, iteration: c.iteration, op: c.op, parents: c.parents });
            for (const p of c.parents) queue.push([p, generation + 1]);
          } else {
            lineage.push({ id: next, generation, stored: false, iteration: -1, op: "", parents: [] });
          }
        }
        return Object.assign({}, first, { lineage });
      },
      subscribe() {},
    };
  }

  function apiSource(base) {
    async function get(path) {
      const response = await fetch(base + path, { cache: "no-store" });
      if (!response.ok) {
        let message = response.status + " " + response.statusText;
        try {
          const body = await response.json();
          if (body && body.error) message = body.error;
        } catch (ignored) {
          // not JSON: the status says enough
        }
        const error = new Error(message);
        error.status = response.status;
        throw error;
      }
      return response.json();
    }
    const run = (id) => "/runs/" + encodeURIComponent(id);
    return {
      live: true,
      runs: async () => {
        const body = await get("/runs");
        return Array.isArray(body) ? body : body.runs;
      },
      elites: (id) => get(run(id) + "/elites"),
      iterations: (id, since) => get(run(id) + "/iterations" + (since >= 0 ? "?since=" + since : "")),
      async candidate(id, cid) {
        try {
          return await get(run(id) + "/candidates/" + cid);
        } catch (error) {
          if (error.status === 404) return null;
          throw error;
        }
      },
      // Live updates. The shown run's event stream ("status" when it opens, "iteration" at
      // each committed iteration, "error" when the store goes away) asks for a refresh at
      // once; one stream only, because a browser keeps at most six connections to a host and
      // the page's own requests need them. While the stream is down (or EventSource is
      // missing), or other runs share the page, a timer polls every 2 s; a quiet open stream
      // still gets a refresh every 15 s. Refreshes run one at a time: a request that comes
      // during one is served by one more refresh after it.
      subscribe(tick, shownRun, runCount) {
        let running = false;
        let pendingCause = null;
        let lastRefresh = Date.now();
        const refresh = async (cause) => {
          if (running) {
            pendingCause = cause;
            return;
          }
          running = true;
          try {
            for (let next = cause; next !== null; next = pendingCause) {
              pendingCause = null;
              lastRefresh = Date.now();
              await tick(next);
            }
          } finally {
            running = false;
          }
        };
        let stream = null;
        let streamRun = null;
        const follow = () => {
          const id = shownRun();
          if (typeof EventSource !== "function" || (stream && streamRun === id)) return;
          if (stream) stream.close();
          streamRun = id;
          stream = new EventSource(base + run(id) + "/events");
          for (const name of ["status", "iteration", "error"]) stream.addEventListener(name, () => refresh("event"));
        };
        follow();
        setInterval(() => {
          follow();
          const streaming = stream !== null && stream.readyState === EventSource.OPEN;
          const wait = streaming && runCount() === 1 ? 15000 : 2000;
          if (Date.now() - lastRefresh >= wait - 100) refresh("poll");
        }, 2000);
      },
    };
  }

  // ---------------------------------------------------------------- helpers

  function element(tag, attributes, text) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attributes || {})) node.setAttribute(k, v);
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function svgElement(tag, attributes, text) {
    const node = document.createElementNS(SVG_NS, tag);
    for (const [k, v] of Object.entries(attributes || {})) node.setAttribute(k, v);
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function shortNumber(v) {
    if (v === null || v === undefined || !isFinite(v)) return "—";
    if (Math.abs(v) < 1e-12) return "0";
    return String(Number(v.toPrecision(4)));
  }
  function niceTicks(lo, hi, count) {
    if (!(hi > lo)) return [lo];
    const raw = (hi - lo) / count;
    const power = Math.pow(10, Math.floor(Math.log10(raw)));
    const step = [1, 2, 5, 10].map((f) => f * power).find((s) => s >= raw);
    const ticks = [];
    for (let t = Math.ceil(lo / step - 1e-9) * step; t <= hi + step * 1e-9; t += step) ticks.push(Math.abs(t) < step * 1e-9 ? 0 : t);
    return ticks;
  }
  const viridisStops = PAGE.viridis || [[0, 68, 1, 84], [255, 253, 231, 37]];
  function viridis(t) {
    if (!(t > 0)) t = 0;
    if (t > 1) t = 1;
    const x = t * 255;
    let i = 0;
    while (i + 2 < viridisStops.length && viridisStops[i + 1][0] <= x) i++;
    const a = viridisStops[i], b = viridisStops[i + 1];
    const f = (x - a[0]) / (b[0] - a[0]);
    const mix = (k) => Math.round(a[k] + (b[k] - a[k]) * f);
    return "rgb(" + mix(1) + "," + mix(2) + "," + mix(3) + ")";
  }
  const EMPTY = PAGE.empty || "#d8d8d8";
  const seriesColours = PAGE.series || ["#0072b2", "#e69f00", "#009e73", "#d55e00", "#cc79a7", "#56b4e9", "#f0e442", "#000000"];

  // ---------------------------------------------------------------- state

  const source = window.QDGEN_API ? apiSource(window.QDGEN_API) : staticSource(JSON.parse(document.getElementById("qdgen-data").textContent));
  const state = {
    runs: [],
    current: null, // run id
    elites: new Map(), // run id -> elites JSON
    iterations: new Map(), // run id -> [iteration]
    axes: [0, 1],
    sort: { key: "objective", down: true },
    page: 0,
    shown: null, // candidate id in the detail panel
  };
  const $ = (id) => document.getElementById(id);
  const currentRun = () => state.runs.find((r) => r.id === state.current);
  const measureNames = (run) => run.measure_names || run.archive.dims.map((d, i) => d.name || "measure " + (i + 1));

  // ---------------------------------------------------------------- archive map

  function objectiveColour(elites) {
    const range = elites.objective_range || [0, 1];
    return (o) => (o === null || o === undefined ? viridis(0) : viridis(range[1] > range[0] ? (o - range[0]) / (range[1] - range[0]) : 0.5));
  }

  function axisRange(run, elites, d) {
    const dim = run.archive.dims[d];
    if (run.archive.type !== "novelty") return dim.range;
    const r = elites.measure_range && elites.measure_range[d];
    if (!r) return [0, 1];
    const pad = r[1] > r[0] ? (r[1] - r[0]) * 0.05 : 0.5;
    return [r[0] - pad, r[1] + pad];
  }

  function drawMap() {
    const run = currentRun();
    const elites = state.elites.get(state.current);
    const box = $("archive-map-box");
    const tooltip = $("map-tooltip");
    box.textContent = "";
    if (tooltip) box.appendChild(tooltip);
    if (!run || !elites) return;
    const dims = run.archive.dims.length;
    const names = measureNames(run);
    const type = run.archive.type;
    $("map-axes").hidden = dims <= 2 || (type === "cvt" && dims === 2);
    const [dx, dy] = dims === 1 ? [0, 0] : state.axes;
    const strip = dims === 1;
    const left = 78, top = 14, width = strip ? 560 : 440, height = strip ? 56 : 440;
    const svg = svgElement("svg", { id: "archive-map", "data-run": run.id, "data-type": type, viewBox: "0 0 " + (left + width + 110) + " " + (top + height + 64), width: left + width + 110, height: top + height + 64, "font-size": "11" });
    const colour = objectiveColour(elites);
    const rx = axisRange(run, elites, dx), ry = axisRange(run, elites, dy);
    const X = (v) => left + (width * (v - rx[0])) / (rx[1] - rx[0]);
    const Y = (v) => top + height - (height * (v - ry[0])) / (ry[1] - ry[0]);
    const cells = svgElement("g", { class: "cells" });
    const tag = (node, e) => {
      node.setAttribute("data-cell", e.index.join(","));
      node.setAttribute("data-id", e.id);
      node.setAttribute("data-objective", e.objective === null ? "NaN" : e.objective);
      node.setAttribute("fill", colour(e.objective));
      return node;
    };
    if (type === "grid") {
      cells.appendChild(svgElement("rect", { class: "empty-bg", x: left, y: top, width, height, fill: EMPTY }));
      const ex = run.archive.dims[dx].edges, ey = run.archive.dims[dy].edges;
      const best = new Map();
      for (const e of elites.elites) {
        const key = strip ? e.index[0] : e.index[dx] + "," + e.index[dy];
        const held = best.get(key);
        if (!held || (e.objective !== null && (held.objective === null || e.objective > held.objective))) best.set(key, e);
      }
      for (const e of best.values()) {
        const i = e.index[dx], j = strip ? 0 : e.index[dy];
        const y0 = strip ? top : Y(ey[j + 1]), y1 = strip ? top + height : Y(ey[j]);
        cells.appendChild(tag(svgElement("rect", { class: "cell", x: X(ex[i]), y: y0, width: Math.max(X(ex[i + 1]) - X(ex[i]), 0.5), height: Math.max(y1 - y0, 0.5) }), e));
      }
    } else if (type === "cvt" && dims === 2 && run.archive.voronoi) {
      const byCell = new Map(elites.elites.map((e) => [e.cell, e]));
      run.archive.voronoi.forEach((polygon, cell) => {
        const points = polygon.map((p) => X(p[0]).toFixed(2) + "," + Y(p[1]).toFixed(2)).join(" ");
        const e = byCell.get(cell);
        const node = svgElement("polygon", { points, stroke: "#fff", "stroke-width": "0.5" });
        if (e) {
          node.setAttribute("class", "cell");
          tag(node, e);
        } else {
          node.setAttribute("class", "empty");
          node.setAttribute("data-cell", String(cell));
          node.setAttribute("fill", EMPTY);
        }
        cells.appendChild(node);
      });
    } else {
      const radius = elites.elites.length > 2000 ? 2 : 3.5;
      for (const e of elites.elites) {
        const mx = e.measures[dx], my = strip ? null : e.measures[dy];
        if (mx === null || (!strip && my === null)) continue;
        const cy = strip ? top + height / 2 : Y(Math.min(Math.max(my, ry[0]), ry[1]));
        cells.appendChild(tag(svgElement("circle", { class: "member", cx: X(Math.min(Math.max(mx, rx[0]), rx[1])), cy, r: radius }), e));
      }
    }
    svg.appendChild(cells);
    svg.appendChild(svgElement("rect", { class: "frame", x: left, y: top, width, height, fill: "none", stroke: "#222" }));
    // Axes: a grid's edges where there are few, else round values.
    const ticksOf = (d, r) => (type === "grid" && run.archive.dims[d].edges.length <= 21 ? run.archive.dims[d].edges : niceTicks(r[0], r[1], 5));
    let last = -1e9;
    for (const t of ticksOf(dx, rx)) {
      const x = X(t);
      svg.appendChild(svgElement("line", { x1: x, x2: x, y1: top + height, y2: top + height + 5, stroke: "#222" }));
      const text = shortNumber(t);
      if (x - text.length * 3.5 < last + 4) continue;
      svg.appendChild(svgElement("text", { x, y: top + height + 17, "text-anchor": "middle", class: "tick-label" }, text));
      last = x + text.length * 3.5;
    }
    svg.appendChild(svgElement("text", { x: left + width / 2, y: top + height + 38, "text-anchor": "middle", class: "axis-label", "font-size": "13" }, names[dx]));
    if (!strip) {
      let lastY = 1e9;
      for (const t of ticksOf(dy, ry)) {
        const y = Y(t);
        svg.appendChild(svgElement("line", { x1: left - 5, x2: left, y1: y, y2: y, stroke: "#222" }));
        if (y > lastY - 13) continue;
        svg.appendChild(svgElement("text", { x: left - 8, y: y + 4, "text-anchor": "end", class: "tick-label" }, shortNumber(t)));
        lastY = y;
      }
      svg.appendChild(svgElement("text", { x: 14, y: top + height / 2, "text-anchor": "middle", class: "axis-label", "font-size": "13", transform: "rotate(-90 14 " + (top + height / 2) + ")" }, names[dy]));
    }
    // Colour bar and what empty looks like.
    const barX = left + width + 24, barH = Math.max(height, 120);
    const gradient = svgElement("linearGradient", { id: "qdgen-viridis", x1: "0", y1: "1", x2: "0", y2: "0" });
    for (const s of viridisStops) gradient.appendChild(svgElement("stop", { offset: (s[0] / 255).toFixed(4), "stop-color": "rgb(" + s[1] + "," + s[2] + "," + s[3] + ")" }));
    const defs = svgElement("defs");
    defs.appendChild(gradient);
    svg.appendChild(defs);
    svg.appendChild(svgElement("rect", { class: "colour-bar", x: barX, y: top, width: 14, height: barH, fill: "url(#qdgen-viridis)", stroke: "#222" }));
    const range = elites.objective_range || [null, null];
    svg.appendChild(svgElement("text", { class: "colour-max", x: barX + 18, y: top + 9 }, shortNumber(range[1])));
    svg.appendChild(svgElement("text", { class: "colour-min", x: barX + 18, y: top + barH }, shortNumber(range[0])));
    svg.appendChild(svgElement("text", { class: "colour-label", x: barX + 30, y: top + barH / 2, "text-anchor": "middle", transform: "rotate(-90 " + (barX + 30) + " " + (top + barH / 2) + ")" }, "objective"));
    if (type !== "novelty") {
      svg.appendChild(svgElement("rect", { class: "empty-swatch", x: barX, y: top + barH + 12, width: 14, height: 14, fill: EMPTY }));
      svg.appendChild(svgElement("text", { class: "empty-label", x: barX + 18, y: top + barH + 24 }, "empty"));
    }
    box.appendChild(svg);
    markSelected();
  }

  function fillAxisChoices(run) {
    const names = measureNames(run);
    for (const [id, which] of [["map-x", 0], ["map-y", 1]]) {
      const select = $(id);
      select.textContent = "";
      names.forEach((n, i) => select.appendChild(element("option", { value: String(i) }, n)));
      select.value = String(state.axes[which]);
    }
  }

  function eliteById(id) {
    const elites = state.elites.get(state.current);
    return elites ? elites.elites.find((e) => e.id === id) : undefined;
  }

  function markSelected() {
    for (const node of document.querySelectorAll("#archive-map .selected")) node.classList.remove("selected");
    if (state.shown === null) return;
    for (const node of document.querySelectorAll('#archive-map [data-id="' + state.shown + '"]')) node.classList.add("selected");
  }

  // ---------------------------------------------------------------- detail panel

  function addField(list, name, value) {
    list.appendChild(element("dt", {}, name));
    const dd = element("dd", { "data-field": name });
    if (value instanceof Node) dd.appendChild(value);
    else dd.textContent = value;
    list.appendChild(dd);
  }

  // A judge's raw output as "key.sub: value" lines, numbers written short.
  function flatten(value, prefix = "") {
    if (value === null || typeof value !== "object") return [prefix + ": " + (typeof value === "number" ? shortNumber(value) : JSON.stringify(value))];
    if (Array.isArray(value)) return [prefix + ": " + value.map((v) => (typeof v === "number" ? shortNumber(v) : JSON.stringify(v))).join(", ")];
    return Object.entries(value).flatMap(([k, v]) => flatten(v, prefix ? prefix + "." + k : k));
  }

  function candidateLink(id) {
    const a = element("a", { href: "#", "data-id": String(id) }, "#" + id);
    a.addEventListener("click", (event) => {
      event.preventDefault();
      showCandidate(id);
    });
    return a;
  }

  async function showCandidate(id) {
    const run = currentRun();
    state.shown = id;
    markSelected();
    // data-id names the candidate once its details are drawn (tests wait for it).
    const panel = $("elite-detail");
    let c;
    try {
      c = await source.candidate(run.id, id);
    } catch (error) {
      $("detail-empty").hidden = false;
      $("detail-empty").textContent = "Cannot read candidate " + id + ": " + error.message;
      $("detail-body").hidden = true;
      return;
    }
    if (state.shown !== id) return; // another click came first
    if (!c) {
      $("detail-empty").hidden = false;
      $("detail-empty").textContent = "Candidate " + id + " is not in the store (it keeps only candidates that entered an archive).";
      $("detail-body").hidden = true;
      panel.setAttribute("data-id", String(id));
      return;
    }
    $("detail-empty").hidden = true;
    $("detail-body").hidden = false;
    const fields = $("detail-fields");
    fields.textContent = "";
    const names = measureNames(run);
    const elite = eliteById(id);
    addField(fields, "candidate", "#" + c.id + (elite ? " · elite of cell " + elite.index.join(",") : ""));
    addField(fields, "objective", shortNumber(c.objective));
    c.measures.forEach((m, i) => addField(fields, names[i] || "measure " + (i + 1), shortNumber(m)));
    addField(fields, "iteration", String(c.iteration));
    addField(fields, "operator", c.op || "—");
    const parents = element("span");
    c.parents.forEach((p, i) => {
      if (i) parents.appendChild(document.createTextNode(", "));
      parents.appendChild(candidateLink(p));
    });
    if (!c.parents.length) parents.textContent = "none (a seed or a random start)";
    addField(fields, "parents", parents);
    const statuses = ["not added", "improved a cell", "new cell"];
    if (c.outcome) addField(fields, "outcome", statuses[c.outcome.status] + " (cell " + c.outcome.cell + ", value " + shortNumber(c.outcome.value) + ")");
    $("detail-text").textContent = c.text !== undefined ? c.text : JSON.stringify(c.solution);

    const metadata = c.metadata || {};
    const judges = $("detail-judges");
    judges.textContent = "";
    const judge = metadata.judge || {};
    for (const [name, output] of Object.entries(judge)) {
      const row = element("tr", { "data-judge": name });
      row.appendChild(element("th", {}, name));
      const value = output && typeof output === "object" && "value" in output ? shortNumber(output.value) : JSON.stringify(output);
      row.appendChild(element("td", {}, value));
      const rest = output && typeof output === "object" ? Object.assign({}, output) : {};
      delete rest.value;
      row.appendChild(element("td", { class: "judge-raw" }, flatten(rest).join("\n")));
      judges.appendChild(row);
    }
    $("detail-judges-box").hidden = !Object.keys(judge).length;
    const mixture = $("detail-mixture");
    mixture.textContent = "";
    const weights = Object.entries(metadata.mixture || {}).sort((a, b) => b[1] - a[1]);
    for (const [expert, weight] of weights) {
      const row = element("tr", { "data-expert": expert });
      row.appendChild(element("th", {}, expert));
      row.appendChild(element("td", {}, shortNumber(weight)));
      const bar = element("td");
      bar.appendChild(element("span", { style: "display:inline-block;height:0.7em;background:#0072b2;width:" + Math.round(Math.max(0, Math.min(1, weight)) * 120) + "px" }));
      row.appendChild(bar);
      mixture.appendChild(row);
    }
    $("detail-mixture-box").hidden = !weights.length;

    const lineage = $("lineage");
    lineage.textContent = "";
    for (const a of (c.lineage || []).slice(0, LINEAGE_LIMIT)) {
      const label = a.generation === 0 ? "this candidate" : a.generation === 1 ? "parent" : "generation −" + a.generation;
      const li = element("li", { "data-id": String(a.id), "data-generation": String(a.generation) });
      li.textContent = a.stored ? label + ": #" + a.id + " · " + (a.op || "—") + " · iteration " + a.iteration : label + ": #" + a.id + " (not stored)";
      if (!a.stored) li.classList.add("missing");
      else if (a.id !== c.id) li.addEventListener("click", () => showCandidate(a.id));
      lineage.appendChild(li);
    }
    if (c.lineage && c.lineage.length > LINEAGE_LIMIT) lineage.appendChild(element("li", { class: "missing" }, "… " + (c.lineage.length - LINEAGE_LIMIT) + " more"));
    panel.setAttribute("data-id", String(id));
  }

  // ---------------------------------------------------------------- elite table

  function tableColumns(run) {
    const names = measureNames(run);
    return [
      { key: "cell", title: "cell", value: (e) => e.cell, show: (e) => e.index.join(",") },
      { key: "objective", title: "objective", value: (e) => (e.objective === null ? -Infinity : e.objective), show: (e) => shortNumber(e.objective) },
      ...names.map((n, i) => ({ key: "m" + i, title: n, value: (e) => e.measures[i], show: (e) => shortNumber(e.measures[i]) })),
      { key: "iteration", title: "iteration", value: (e) => e.iteration, show: (e) => String(e.iteration) },
      { key: "op", title: "operator", value: (e) => e.op, show: (e) => e.op },
      { key: "preview", title: run.domain === "text" ? "text" : "solution", value: (e) => e.preview, show: (e) => e.preview + (e.truncated ? "…" : "") },
    ];
  }

  function drawTableHead() {
    const run = currentRun();
    const row = document.querySelector("#elite-table thead tr");
    row.textContent = "";
    for (const column of tableColumns(run)) {
      const th = element("th", { "data-sort": column.key }, column.title);
      if (column.key === state.sort.key) th.classList.add(state.sort.down ? "sorted-down" : "sorted-up");
      th.addEventListener("click", () => {
        state.sort = { key: column.key, down: state.sort.key === column.key ? !state.sort.down : column.key === "objective" };
        state.page = 0;
        drawTableHead();
        drawTable();
      });
      row.appendChild(th);
    }
    const ops = $("elite-op");
    const chosen = ops.value;
    ops.length = 1;
    const elites = state.elites.get(state.current);
    for (const op of [...new Set((elites ? elites.elites : []).map((e) => e.op))].sort()) ops.appendChild(element("option", { value: op }, op));
    ops.value = chosen;
  }

  function drawTable() {
    const run = currentRun();
    const elites = state.elites.get(state.current);
    const body = document.querySelector("#elite-table tbody");
    body.textContent = "";
    if (!run || !elites) return;
    const columns = tableColumns(run);
    const column = columns.find((c) => c.key === state.sort.key) || columns[1];
    const needle = $("elite-search").value.trim().toLowerCase();
    const op = $("elite-op").value;
    const rows = elites.elites.filter((e) => (!needle || e.preview.toLowerCase().includes(needle)) && (!op || e.op === op));
    rows.sort((a, b) => {
      const x = column.value(a), y = column.value(b);
      const order = x < y ? -1 : x > y ? 1 : a.cell - b.cell;
      return state.sort.down ? -order : order;
    });
    const pages = Math.max(1, Math.ceil(rows.length / PAGE_ROWS));
    state.page = Math.min(state.page, pages - 1);
    const first = state.page * PAGE_ROWS;
    const fragment = document.createDocumentFragment();
    for (const e of rows.slice(first, first + PAGE_ROWS)) {
      const tr = element("tr", { "data-id": String(e.id), "data-cell": e.index.join(",") });
      for (const c of columns) tr.appendChild(element("td", c.key === "preview" ? { class: "preview" } : {}, c.show(e)));
      fragment.appendChild(tr);
    }
    body.appendChild(fragment);
    $("elite-count").textContent = rows.length ? "rows " + (first + 1) + "–" + Math.min(first + PAGE_ROWS, rows.length) + " of " + rows.length + (rows.length < elites.elites.length ? " (of " + elites.elites.length + " elites)" : "") : "no elites match";
    $("elite-prev").disabled = state.page === 0;
    $("elite-next").disabled = state.page >= pages - 1;
  }

  // ---------------------------------------------------------------- curves

  function curveMetrics() {
    const keys = new Set();
    let throughput = false;
    for (const run of state.runs) {
      for (const k of run.metrics_keys || []) keys.add(k);
      for (const it of state.iterations.get(run.id) || []) throughput = throughput || typeof it.evaluations_per_s === "number";
    }
    const metrics = ["qd_score", "coverage", "obj_max", "obj_mean"].filter((k) => keys.has(k));
    metrics.push(...[...keys].filter((k) => k.startsWith("vendi_")).sort());
    if (throughput) metrics.push("evaluations_per_s");
    return metrics;
  }
  function metricTitle(key) {
    const named = { qd_score: "QD score", coverage: "coverage", obj_max: "max objective", obj_mean: "mean objective", evaluations_per_s: "evaluations/s" }[key];
    if (named) return named;
    // vendi_<kernel>_q<order>: "Vendi, embedding kernel, q = 0.5", as curves.svg names them.
    const vendi = /^vendi_(.*)_q(.*)$/.exec(key);
    return vendi ? "Vendi, " + vendi[1] + " kernel, q = " + vendi[2] : key;
  }
  function metricValue(it, key) {
    const v = key === "evaluations_per_s" ? it.evaluations_per_s : it.metrics ? it.metrics[key] : undefined;
    return typeof v === "number" && isFinite(v) ? v : null;
  }

  function drawCurves() {
    const legend = $("curves-legend");
    legend.textContent = "";
    state.runs.forEach((run, i) => {
      const li = element("li", { "data-series": run.id });
      li.appendChild(element("span", { class: "swatch", style: "background:" + seriesColours[i % seriesColours.length] }));
      li.appendChild(document.createTextNode(run.name + " (" + run.file + ")"));
      legend.appendChild(li);
    });
    const box = $("curves");
    box.textContent = "";
    let lastIteration = 1;
    for (const run of state.runs) for (const it of state.iterations.get(run.id) || []) lastIteration = Math.max(lastIteration, it.iteration);
    const W = 330, H = 170, L = 56, T = 8;
    for (const key of curveMetrics()) {
      let lo = Infinity, hi = -Infinity;
      for (const run of state.runs)
        for (const it of state.iterations.get(run.id) || []) {
          const v = metricValue(it, key);
          if (v !== null) (lo = Math.min(lo, v)), (hi = Math.max(hi, v));
        }
      if (!(lo <= hi)) (lo = 0), (hi = 1);
      if (lo === hi) (lo -= 0.5 * Math.max(Math.abs(lo), 1)), (hi += 0.5 * Math.max(Math.abs(hi), 1));
      const X = (x) => L + (W * x) / lastIteration, Y = (v) => T + (H * (hi - v)) / (hi - lo);
      const figure = element("figure", { "data-metric": key });
      figure.appendChild(element("figcaption", {}, metricTitle(key)));
      const svg = svgElement("svg", { class: "curve", "data-metric": key, width: L + W + 12, height: T + H + 34, viewBox: "0 0 " + (L + W + 12) + " " + (T + H + 34), "font-size": "10" });
      for (const t of niceTicks(lo, hi, 4)) {
        svg.appendChild(svgElement("line", { x1: L, x2: L + W, y1: Y(t), y2: Y(t), stroke: "#e0e0e0" }));
        svg.appendChild(svgElement("text", { x: L - 5, y: Y(t) + 3, "text-anchor": "end" }, shortNumber(t)));
      }
      for (const t of niceTicks(0, lastIteration, 5)) {
        svg.appendChild(svgElement("line", { x1: X(t), x2: X(t), y1: T + H, y2: T + H + 4, stroke: "#222" }));
        svg.appendChild(svgElement("text", { x: X(t), y: T + H + 15, "text-anchor": "middle" }, shortNumber(t)));
      }
      svg.appendChild(svgElement("text", { x: L + W / 2, y: T + H + 30, "text-anchor": "middle" }, "iteration"));
      state.runs.forEach((run, i) => {
        const points = [];
        for (const it of state.iterations.get(run.id) || []) {
          const v = metricValue(it, key);
          if (v !== null) points.push(X(it.iteration).toFixed(1) + "," + Y(v).toFixed(1));
        }
        if (!points.length) return;
        const stroke = seriesColours[i % seriesColours.length];
        if (points.length === 1) {
          const [cx, cy] = points[0].split(",");
          svg.appendChild(svgElement("circle", { cx, cy, r: 2.5, fill: stroke, "data-series": run.id }));
        }
        svg.appendChild(svgElement("polyline", { points: points.join(" "), fill: "none", stroke, "stroke-width": 1.5, "data-series": run.id }));
      });
      svg.appendChild(svgElement("rect", { x: L, y: T, width: W, height: H, fill: "none", stroke: "#222" }));
      figure.appendChild(svg);
      box.appendChild(figure);
    }
    if (!box.childElementCount) box.textContent = "No iterations committed yet.";
  }

  // ---------------------------------------------------------------- the run shown

  function drawStatus() {
    const run = currentRun();
    const elites = state.elites.get(state.current);
    const status = $("run-status");
    if (!run) return;
    const last = run.last_iteration;
    status.setAttribute("data-iteration", last === null ? "" : String(last));
    const done = last === null ? "no iteration committed" : last + 1 + (run.iterations_planned ? " of " + run.iterations_planned : "") + " iterations";
    const parts = [run.status, done, elites ? elites.count + (run.archive.cells ? " of " + run.archive.cells + " cells filled" : " members") : "", run.candidate_count + " candidates stored"];
    if (source.live) parts.push("live");
    if (run.failure) parts.push("failed: " + run.failure);
    status.textContent = parts.filter(Boolean).join(" · ");
  }

  async function showRun(id) {
    state.current = id;
    const run = currentRun();
    state.axes = [0, Math.min(1, run.archive.dims.length - 1)];
    fillAxisChoices(run);
    if (!state.elites.has(id)) state.elites.set(id, await source.elites(id));
    state.page = 0;
    drawMap();
    drawTableHead();
    drawTable();
    drawStatus();
  }

  // Live: new iterations of every run; the shown run's elites again when it moved on.
  async function refresh(cause) {
    if (cause) $("run-status").setAttribute("data-updated-by", cause);
    try {
      const runs = await source.runs();
      for (const run of runs) {
        const known = state.iterations.get(run.id) || [];
        const since = known.length ? known[known.length - 1].iteration : -1;
        const fresh = await source.iterations(run.id, since);
        if (fresh.length) state.iterations.set(run.id, known.concat(fresh));
      }
      const before = currentRun();
      const moved = !before || runs.find((r) => r.id === state.current).last_iteration !== before.last_iteration;
      state.runs = runs;
      drawCurves();
      if (moved) {
        state.elites.set(state.current, await source.elites(state.current));
        drawMap();
        drawTableHead();
        drawTable();
      }
      drawStatus();
      document.body.dataset.state = "ready";
    } catch (error) {
      $("run-status").textContent = "cannot refresh: " + error.message;
    }
  }

  function hookEvents() {
    $("run-select").addEventListener("change", (event) => showRun(event.target.value));
    for (const [id, which] of [["map-x", 0], ["map-y", 1]])
      $(id).addEventListener("change", (event) => {
        state.axes[which] = Number(event.target.value);
        drawMap();
      });
    const box = $("archive-map-box");
    const tooltip = element("div", { id: "map-tooltip", role: "tooltip", style: "position:fixed;pointer-events:none;background:#fff;border:1px solid #999;padding:4px 6px;max-width:28em;font-size:12px;display:none;z-index:10;white-space:pre-wrap" });
    box.appendChild(tooltip);
    box.addEventListener("mousemove", (event) => {
      const node = event.target.closest("[data-id]");
      const e = node ? eliteById(Number(node.getAttribute("data-id"))) : undefined;
      if (!e) {
        tooltip.style.display = "none";
        return;
      }
      tooltip.textContent = "cell " + e.index.join(",") + " · objective " + shortNumber(e.objective) + "\n" + e.preview + (e.truncated ? "…" : "");
      tooltip.style.left = event.clientX + 14 + "px";
      tooltip.style.top = event.clientY + 14 + "px";
      tooltip.style.display = "block";
    });
    box.addEventListener("mouseleave", () => (tooltip.style.display = "none"));
    box.addEventListener("click", (event) => {
      const node = event.target.closest("[data-id]");
      if (node) showCandidate(Number(node.getAttribute("data-id")));
    });
    document.querySelector("#elite-table tbody").addEventListener("click", (event) => {
      const row = event.target.closest("tr[data-id]");
      if (row) showCandidate(Number(row.getAttribute("data-id")));
    });
    $("elite-search").addEventListener("input", () => {
      state.page = 0;
      drawTable();
    });
    $("elite-op").addEventListener("change", () => {
      state.page = 0;
      drawTable();
    });
    $("elite-prev").addEventListener("click", () => {
      state.page = Math.max(0, state.page - 1);
      drawTable();
    });
    $("elite-next").addEventListener("click", () => {
      state.page += 1;
      drawTable();
    });
  }

  async function start() {
    document.body.dataset.state = "loading";
    hookEvents();
    try {
      state.runs = await source.runs();
      if (!state.runs.length) throw new Error("no runs");
      const select = $("run-select");
      for (const run of state.runs) select.appendChild(element("option", { value: run.id }, run.name + " (" + run.file + ")"));
      $("run-choice").hidden = state.runs.length < 2;
      for (const run of state.runs) state.iterations.set(run.id, await source.iterations(run.id, -1));
      drawCurves();
      // A link may name what to show: #run=<id>&candidate=<id>.
      const wanted = new URLSearchParams(location.hash.slice(1));
      const first = state.runs.find((r) => r.id === wanted.get("run")) || state.runs[0];
      select.value = first.id;
      await showRun(first.id);
      if (wanted.has("candidate")) await showCandidate(Number(wanted.get("candidate")));
      source.subscribe(refresh, () => state.current, () => state.runs.length);
      document.body.dataset.readyMs = String(Math.round(performance.now()));
      document.body.dataset.state = "ready";
    } catch (error) {
      document.body.dataset.state = "error";
      $("run-status").textContent = "cannot load the runs: " + error.message;
    }
  }

  start();
})();
