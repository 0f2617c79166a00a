// The twin's page: polls the twin's API every two seconds and draws time charts with uPlot
// (vendored from npm into /static/vendor by scripts/setup.sh; nothing from a CDN).
"use strict";

const COLORS = ["#2f6fdf", "#23955a", "#d64545", "#8a4fd0", "#e08a1e", "#1aa3a3", "#7a7f2a",
  "#c2418c", "#4a5a7a", "#9a6b3c"];
const WINDOW_S = 600;
const charts = new Map();

// An API token, when the twin's file configures [api] tokens: open the page as /#token=...
const TOKEN = new URLSearchParams(location.hash.slice(1)).get("token");

async function getJson(path) {
  const headers = TOKEN ? { Authorization: `Bearer ${TOKEN}` } : {};
  const response = await fetch(path, { cache: "no-store", headers });
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return response.json();
}

function text(value) { return value === undefined || value === null ? "–" : String(value); }

function cell(row, value, cls) {
  const td = row.insertCell();
  td.textContent = text(value);
  if (cls) td.className = cls;
  return td;
}

// Align several [[t, v], …] series on one time axis (uPlot wants columns).
function align(series) {
  const times = [...new Set(series.flatMap((s) => s.map((p) => Math.round(p[0]))))].sort(
    (a, b) => a - b);
  const index = new Map(times.map((t, i) => [t, i]));
  const columns = series.map((s) => {
    const column = new Array(times.length).fill(null);
    for (const [t, v] of s) column[index.get(Math.round(t))] = v;
    return column;
  });
  return [times, ...columns];
}

function draw(id, element, names, data, extra = {}) {
  if (typeof uPlot === "undefined") {
    document.getElementById("library").hidden = false;
    return;
  }
  const key = `${id}:${names.join("|")}`;
  let chart = charts.get(id);
  if (chart && chart.key !== key) { chart.plot.destroy(); charts.delete(id); chart = undefined; }
  if (!chart) {
    element.textContent = "";
    const opts = {
      width: Math.max(320, element.clientWidth - 10), height: 240,
      scales: { x: { time: true } },
      series: [{}, ...names.map((name, i) => ({
        label: name, stroke: extra.strokes ? extra.strokes[i] : COLORS[i % COLORS.length],
        width: 1.5, dash: extra.dashes ? extra.dashes[i] : undefined, spanGaps: true }))],
      axes: [{}, { label: "W", size: 70 }],
    };
    chart = { key, plot: new uPlot(opts, data, element) };
    charts.set(id, chart);
  } else {
    chart.plot.setData(data);
  }
  element.dataset.points = String(data[0].length);
}

async function refresh() {
  const state = await getJson("/api/v1/twin/stations");
  const since = state.at - WINDOW_S;
  const c = state.counters;
  document.getElementById("counters").textContent =
    `${c.batches} batches · ${c.accepted} verified · ${c.refused} refused · ${c.values} values`;

  const body = document.querySelector("#stations tbody");
  body.textContent = "";
  const powerSeries = [];
  const powerNames = [];
  for (const station of state.stations) {
    const evses = station.evses || {};
    let power = 0, connector, soc;
    for (const values of Object.values(evses)) {
      for (const [label, value] of Object.entries(values)) {
        if (label.endsWith(".power")) power += Number(value);
        if (label.endsWith(".connector")) connector = value;
        if (label.endsWith(".soc")) soc = value;
      }
    }
    const row = body.insertRow();
    row.dataset.station = station.station;
    cell(row, station.station);
    cell(row, power.toFixed(0), "num");
    cell(row, connector);
    cell(row, soc, "num");
    const counts = Object.entries(station.verdicts || {}).map(([k, v]) => `${k} ${v}`);
    cell(row, counts.join(", ") || "ok", counts.length ? "bad" : "good");
    cell(row, (station.flags || []).join("; "), "flag");
    for (const label of station.powerLabels || []) {
      const params = new URLSearchParams({ station: station.station, label, since });
      const series = await getJson(`/api/v1/twin/series?${params}`);
      powerSeries.push(series.points);
      powerNames.push(`${station.station} ${label}`);
    }
  }
  if (powerSeries.length) {
    draw("power", document.getElementById("power-chart"), powerNames, align(powerSeries));
  }

  const sites = await getJson("/api/v1/twin/sites");
  document.getElementById("sites-section").hidden = sites.length === 0;
  const holder = document.getElementById("sites");
  for (const site of sites) {
    let element = document.getElementById(`site-${site.site}`);
    if (!element) {
      const title = document.createElement("h3");
      title.textContent = `${site.site} (${site.stations.join(", ")})`;
      element = document.createElement("div");
      element.id = `site-${site.site}`;
      element.className = "chart";
      holder.append(title, element);
    }
    const series = await getJson(`/api/v1/twin/sites/${encodeURIComponent(site.site)}/series?` +
      new URLSearchParams({ since, bucket_s: 1 }));
    const total = series.points;
    const names = ["total"];
    const columns = [total];
    if (site.limitW !== null) {
      names.push("limit");
      columns.push(total.map(([t]) => [t, site.limitW]));
    }
    draw(`site-${site.site}`, element, names, align(columns),
      { strokes: ["#2f6fdf", "#d64545"], dashes: [undefined, [6, 4]] });
  }

  const verdicts = await getJson("/api/v1/twin/verdicts");
  const problems = document.querySelector("#problems tbody");
  problems.textContent = "";
  for (const p of verdicts.problems.slice(0, 50)) {
    const row = problems.insertRow();
    row.dataset.status = p.status;
    cell(row, p.station);
    cell(row, p.stream, "num");
    cell(row, p.seq, "num");
    cell(row, p.status, "bad");
    cell(row, p.detail);
  }
  document.getElementById("updated").textContent =
    `updated ${new Date().toLocaleTimeString()}`;
}

async function loop() {
  try {
    await refresh();
  } catch (error) {
    document.getElementById("updated").textContent = `error: ${error.message}`;
  }
  setTimeout(loop, 2000);
}

loop();
