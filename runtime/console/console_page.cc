#include "runtime/console/console_page.h"

namespace ekv::runtime::console {

const char kConsolePage[] = R"ekvpage(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>ekv console</title>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 0; background: #f6f7f9; color: #1c1e21; }
  header { background: #1f2937; color: #f9fafb; padding: 10px 20px; display: flex; gap: 24px;
           align-items: baseline; }
  header h1 { font-size: 18px; margin: 0; }
  header span { color: #cbd5e1; }
  main { padding: 12px 20px; display: grid; grid-template-columns: 1fr 1fr; gap: 16px; }
  section { background: #fff; border: 1px solid #e5e7eb; border-radius: 6px; padding: 10px 14px; }
  section.wide { grid-column: 1 / span 2; }
  h2 { font-size: 15px; margin: 4px 0 8px; }
  table { border-collapse: collapse; width: 100%; }
  th, td { text-align: left; padding: 3px 8px; border-bottom: 1px solid #f0f1f3;
           font-variant-numeric: tabular-nums; }
  th { color: #6b7280; font-weight: 600; }
  code { font-size: 12px; }
  .ok { color: #15803d; font-weight: 600; }
  .bad { color: #b91c1c; font-weight: 600; }
  .muted { color: #6b7280; }
  #error { color: #b91c1c; }
  .metric button { border: 1px solid #cbd5e1; background: #fff; padding: 3px 10px; cursor: pointer; }
  .metric button.on { background: #1f2937; color: #fff; }
  #hottest { margin: 6px 0; }
  svg text { font: 11px system-ui, sans-serif; fill: #374151; }
</style>
</head>
<body>
<header><h1>ekv console</h1><span id="summary">loading&hellip;</span><span id="error"></span></header>
<main>
  <section class="wide"><h2>Nodes</h2>
    <table id="nodes"><thead><tr><th>node</th><th>status</th><th>gRPC</th><th>Redis</th>
      <th>DynamoDB</th><th>metrics</th><th>raft</th></tr></thead><tbody></tbody></table>
  </section>
  <section><h2>Raft groups</h2>
    <table id="groups"><thead><tr><th>group</th><th>leader</th><th>commit</th>
      <th>replicas (applied, lag)</th></tr></thead><tbody></tbody></table>
  </section>
  <section><h2>Routes <span id="catalog" class="muted"></span></h2>
    <table id="routes"><thead><tr><th>route</th><th>range</th><th>group</th><th>state</th>
      <th>parent</th></tr></thead><tbody></tbody></table>
  </section>
  <section class="wide"><h2>Key-space heat map</h2>
    <div class="metric">colour =
      <button data-metric="writes">writes/s</button><button data-metric="reads">reads/s</button><button
        data-metric="bytes">bytes/s</button>
      <span class="muted">&nbsp;routes (key order) down, time across; brighter = hotter</span></div>
    <p id="hottest" class="muted">no samples yet</p>
    <div id="heatmap"></div>
  </section>
</main>
<script>
"use strict";
const params = new URLSearchParams(location.search);
let metric = ["reads", "writes", "bytes"].includes(params.get("metric")) ? params.get("metric") : "writes";
let cluster = null;

function esc(s) {
  return String(s).replace(/[&<>"']/g, c => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"})[c]);
}
function range(r) { return "[" + JSON.stringify(r.start) + ", " + (r.end === "" ? "+inf" : JSON.stringify(r.end)) + ")"; }
function rate(v) {
  if (v >= 1e6) return (v / 1e6).toFixed(1) + "M";
  if (v >= 1e3) return (v / 1e3).toFixed(1) + "k";
  return v.toFixed(v < 10 ? 1 : 0);
}
function clock(ms) { return new Date(ms).toLocaleTimeString([], {hour12: false}); }
function fill(id, rows) { document.querySelector("#" + id + " tbody").innerHTML = rows.join(""); }

function renderNodes(c) {
  fill("nodes", c.nodes.map(n => {
    let status;
    if (!n.reachable) status = '<span class="bad">unreachable</span> <span class="muted">' + esc(n.error || "") + "</span>";
    else if (n.ready) status = '<span class="ok">ready</span>';
    else status = '<span class="bad">not ready</span> <span class="muted">' + esc(n.ready_reason) + "</span>";
    const cell = a => "<td><code>" + esc(a || "-") + "</code></td>";
    return '<tr id="node-' + esc(n.name) + '"><td><b>' + esc(n.name) + "</b>" + (n.self ? ' <span class="muted">(this node)</span>' : "") +
      "</td><td>" + status + "</td>" + cell(n.grpc) + cell(n.redis) + cell(n.dynamo) + cell(n.metrics) + cell(n.raft) + "</tr>";
  }));
}

function renderGroups(c) {
  fill("groups", c.groups.map(g => {
    const replicas = g.replicas.map(r => "n" + r.node + (r.state === "leader" ? "*" : "") + " " + r.applied +
      (r.lag > 0 ? ' <span class="bad">lag ' + r.lag + "</span>" : ' <span class="muted">lag 0</span>')).join(", ");
    return '<tr id="group-' + g.group + '"><td>' + g.group + "</td><td>" +
      (g.leader ? "n" + g.leader : '<span class="bad">none</span>') + "</td><td>" + g.commit + "</td><td>" + replicas + "</td></tr>";
  }));
}

function renderRoutes(c) {
  document.getElementById("catalog").textContent = c.catalog_version !== undefined ?
    "(catalog version " + c.catalog_version + ")" : "(" + (c.catalog_error || "catalog unavailable") + ")";
  fill("routes", c.routes.map(r => '<tr id="route-' + r.route_id + '"><td>' + r.route_id + "</td><td><code>" + esc(range(r)) +
    "</code></td><td>" + r.group + "</td><td>" + esc(r.state) + "</td><td>" + (r.parent_route_id || "-") + "</td></tr>"));
}

// Dark blue -> red -> yellow, on a log scale so a quiet range is not lost next to a hot one.
function colour(v, max) {
  if (v <= 0 || max <= 0) return "#0b1026";
  const t = Math.log1p(v) / Math.log1p(max);
  const stops = [[11, 16, 38], [178, 31, 31], [253, 216, 53]];
  const x = t * (stops.length - 1), i = Math.min(Math.floor(x), stops.length - 2), f = x - i;
  const c = stops[i].map((a, k) => Math.round(a + (stops[i + 1][k] - a) * f));
  return "rgb(" + c.join(",") + ")";
}

function renderHeatMap(c) {
  for (const b of document.querySelectorAll(".metric button")) b.classList.toggle("on", b.dataset.metric === metric);
  const hm = c.heat_map, times = hm.times_ms, rows = hm.routes;
  const hottest = document.getElementById("hottest");
  if (times.length === 0 || rows.length === 0) {
    document.getElementById("heatmap").innerHTML = "";
    hottest.textContent = "no samples yet (one arrives every " + (hm.resolution_ms / 1000) + " s)";
    return;
  }
  let max = 0, hot = null;
  rows.forEach(r => r[metric].forEach((v, t) => { if (v > max) { max = v; hot = {route: r, t: t}; } }));
  const labelW = 190, cellW = Math.max(6, Math.min(24, Math.floor(900 / times.length))), cellH = 22, top = 6;
  const width = labelW + cellW * times.length + 10, height = top + cellH * rows.length + 30;
  let svg = '<svg xmlns="http://www.w3.org/2000/svg" width="' + width + '" height="' + height + '">';
  rows.forEach((r, y) => {
    svg += '<text x="' + (labelW - 6) + '" y="' + (top + y * cellH + 15) + '" text-anchor="end">route ' + r.route_id + " " + esc(range(r)) + "</text>";
    r[metric].forEach((v, t) => {
      svg += '<rect class="cell" data-route-id="' + r.route_id + '" data-value="' + v + '" x="' + (labelW + t * cellW) + '" y="' + (top + y * cellH) +
        '" width="' + (cellW - 1) + '" height="' + (cellH - 1) + '" fill="' + colour(v, max) + '"><title>route ' + r.route_id + " " +
        esc(range(r)) + " at " + clock(times[t]) + ": " + rate(v) + " " + metric + "/s</title></rect>";
    });
  });
  const axisY = top + cellH * rows.length + 16;
  // First, middle and last sample times; the last label ends at the grid's right edge.
  [[0, "start"], [Math.floor((times.length - 1) / 2), "middle"], [times.length - 1, "end"]].forEach(([t, anchor]) => {
    const x = labelW + t * cellW + (anchor === "end" ? cellW - 1 : anchor === "middle" ? cellW / 2 : 0);
    svg += '<text x="' + x + '" y="' + axisY + '" text-anchor="' + anchor + '">' + clock(times[t]) + "</text>";
  });
  svg += "</svg>";
  document.getElementById("heatmap").innerHTML = svg;
  if (hot === null) {
    hottest.textContent = "no " + metric + " in the last " + times.length + " samples";
    hottest.removeAttribute("data-route-id");
  } else {
    hottest.innerHTML = "hottest: <b>route " + hot.route.route_id + " " + esc(range(hot.route)) + "</b> (group " + hot.route.group + "), " +
      rate(max) + " " + metric + "/s at " + clock(times[hot.t]);
    hottest.dataset.routeId = hot.route.route_id;
  }
  hottest.dataset.metric = metric;
}

function render() {
  if (!cluster) return;
  const c = cluster;
  const ready = c.nodes.filter(n => n.ready).length;
  document.getElementById("summary").textContent = "served by n" + c.self + " \u00b7 " + ready + "/" + c.nodes.length +
    " nodes ready \u00b7 " + c.groups.length + " groups \u00b7 " + c.routes.length + " routes \u00b7 updated " + clock(Date.now());
  renderNodes(c); renderGroups(c); renderRoutes(c); renderHeatMap(c);
}

async function refresh() {
  try {
    const response = await fetch("/api/cluster", {cache: "no-store"});
    if (!response.ok) throw new Error("HTTP " + response.status);
    cluster = await response.json();
    document.getElementById("error").textContent = "";
    render();
  } catch (e) {
    document.getElementById("error").textContent = "cannot reach this node's console: " + e.message;
  }
}

for (const b of document.querySelectorAll(".metric button")) {
  b.addEventListener("click", () => { metric = b.dataset.metric; render(); });
}
refresh();
setInterval(refresh, 2000);
</script>
</body>
</html>
)ekvpage";

}  // namespace ekv::runtime::console
