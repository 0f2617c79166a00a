// The grid operator's panel: each site's state, limit in force (proven by its signed
// receipt) and measured power against the limit on a time chart. Fed by dashboard.js
// ("ocppnet:state" events) with state.panels.grid = the operator's /grid/status.
"use strict";

(function () {
  const SVG = "http://www.w3.org/2000/svg";
  const W = 640, H = 160, PAD = 38;

  function svg(tag, attrs) {
    const node = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    return node;
  }

  function kw(w) { return w == null ? "–" : `${(w / 1000).toFixed(1)} kW`; }

  function chart(target) {
    const points = target.measurements;
    const box = svg("svg", { viewBox: `0 0 ${W} ${H}`, class: "grid-chart", role: "img",
                             "aria-label": `measured power and limit of ${target.id}` });
    if (!points.length) return box;
    const times = points.map(m => Date.parse(m.at));
    const t0 = Math.min(...times), t1 = Math.max(...times, t0 + 1);
    const top = Math.max(1000, ...points.map(m => Math.max(m.powerW, m.limitW ?? 0))) * 1.1;
    const x = t => PAD + (W - PAD - 8) * (t - t0) / (t1 - t0);
    const y = w => H - 18 - (H - 28) * w / top;
    points.forEach((m, i) => {  // failsafe periods shaded
      if (m.state !== "failsafe" || i + 1 >= points.length) return;
      box.appendChild(svg("rect", { x: x(times[i]), y: 4, height: H - 22,
        width: Math.max(1, x(times[i + 1]) - x(times[i])), class: "grid-failsafe" }));
    });
    box.appendChild(svg("polyline", { class: "grid-power", points:
      points.map((m, i) => `${x(times[i])},${y(m.powerW)}`).join(" ") }));
    let step = "";
    points.forEach((m, i) => {
      if (m.limitW == null) return;
      const next = i + 1 < points.length ? times[i + 1] : times[i];
      step += ` M${x(times[i])},${y(m.limitW)} L${x(next)},${y(m.limitW)}`;
    });
    if (step) box.appendChild(svg("path", { class: "grid-limit", d: step }));
    for (const w of [0, top / 2 / 1.1, top / 1.1]) {
      const label = svg("text", { x: 2, y: y(w) + 4, class: "grid-axis" });
      label.textContent = kw(w);
      box.appendChild(label);
    }
    return box;
  }

  function card(target) {
    const force = target.inForce || {};
    const state = force.state || "unknown";
    const div = document.createElement("div");
    div.className = "grid-target";
    const last = target.measurements[target.measurements.length - 1];
    const head = document.createElement("h3");
    head.innerHTML = "";
    head.append(`${target.id} `);
    const badge = document.createElement("span");
    badge.className = `grid-state grid-${state}`;
    badge.textContent = state;
    head.append(badge);
    const facts = document.createElement("small");
    facts.textContent = ` limit ${kw(force.limitW)}` +
      (force.until ? ` until ${force.until.substring(11, 19)}` : "") +
      ` · measured ${kw(last ? last.powerW : null)} · minimum ${kw(target.minimumW)} · ` +
      (target.proven ? "receipt proven ✓" : `not proven: ${target.problem || "no answer yet"}`);
    head.append(facts);
    div.append(head, chart(target));
    return div;
  }

  document.addEventListener("ocppnet:state", ev => {
    const grid = (ev.detail.panels || {}).grid;
    const section = document.getElementById("grid-section");
    if (!grid || !section) return;
    section.hidden = false;
    document.getElementById("grid-operator").textContent =
      `— ${grid.operator}, heartbeat every ${grid.heartbeatPeriodS} s`;
    document.getElementById("grid").replaceChildren(...grid.targets.map(card));
  });
})();
