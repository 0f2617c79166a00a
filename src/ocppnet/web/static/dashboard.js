// ocppnet dashboard: renders the server's `state` and `messages` server-sent events.
// Plain DOM + SVG, no library. All text goes through textContent (never innerHTML).
"use strict";

const SVG = "http://www.w3.org/2000/svg";
const MAX_MESSAGES = 200;
let messageCount = 0;

function el(tag, attrs = {}, text) {
  const node = tag === "svg" || ["g", "line", "rect", "circle", "text", "title"].includes(tag)
    ? document.createElementNS(SVG, tag) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

function row(cells) {
  const tr = el("tr");
  for (const c of cells) {
    const td = el("td", c.cls ? { class: c.cls } : {}, c.text ?? String(c));
    tr.appendChild(td);
  }
  return tr;
}

function kwh(wh) { return (wh / 1000).toFixed(2); }
function time(iso) { return iso ? iso.substring(11, 19) : ""; }

// --- topology: layers top-down (CSMS first), children ordered under their parents ---------

function layout(vertices, edges, width) {
  const byLayer = new Map();
  for (const v of vertices) {
    if (!byLayer.has(v.layer)) byLayer.set(v.layer, []);
    byLayer.get(v.layer).push(v);
  }
  const neighbours = new Map(vertices.map(v => [v.id, []]));
  for (const e of edges) { neighbours.get(e.a)?.push(e.b); neighbours.get(e.b)?.push(e.a); }
  const pos = new Map();
  const layers = [...byLayer.keys()].sort((a, b) => a - b);
  layers.forEach((layer, i) => {
    const row = byLayer.get(layer);
    const parentX = v => {
      const xs = neighbours.get(v.id).filter(n => pos.has(n)).map(n => pos.get(n).x);
      return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : width / 2;
    };
    row.sort((a, b) => parentX(a) - parentX(b) || a.id.localeCompare(b.id));
    const gap = width / row.length;
    row.forEach((v, j) => pos.set(v.id, { x: gap * (j + 0.5), y: 40 + i * 95 }));
  });
  return { pos, height: 40 + layers.length * 95 };
}

function renderTopology(topology) {
  const svg = document.getElementById("topology");
  const width = Math.max(svg.clientWidth || 900, 600);
  const { pos, height } = layout(topology.vertices, topology.edges, width);
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.style.height = `${height}px`;
  svg.replaceChildren();
  for (const e of topology.edges) {
    const a = pos.get(e.a), b = pos.get(e.b);
    if (!a || !b) continue;
    const line = el("line", { x1: a.x, y1: a.y, x2: b.x, y2: b.y,
      class: `edge ${e.mode} ${e.up ? "up" : "down"}`, "data-edge": `${e.a}|${e.b}` });
    line.appendChild(el("title", {}, `${e.a} — ${e.b}: ${e.mode}, ${e.up ? "up" : "down"}`));
    svg.appendChild(line);
  }
  for (const v of topology.vertices) {
    const p = pos.get(v.id);
    const g = el("g", { class: `vertex ${v.kind} ${v.up ? "up" : "down"}`, "data-id": v.id,
      transform: `translate(${p.x},${p.y})` });
    if (v.kind === "station") {
      g.appendChild(el("circle", { r: 13 }));
      g.appendChild(el("text", { y: 30, class: "label" }, v.id));
    } else {
      const w = Math.max(70, v.id.length * 8 + 20);
      g.appendChild(el("rect", { x: -w / 2, y: -16, width: w, height: 32, rx: 6 }));
      g.appendChild(el("text", { y: 4, class: "label inner" }, v.id));
    }
    g.appendChild(el("title", {}, `${v.id} (${v.kind}${v.up ? "" : ", down"})`));
    svg.appendChild(g);
  }
}

// --- tables ----------------------------------------------------------------------------------

function renderStations(stations) {
  const body = document.querySelector("#stations tbody");
  body.replaceChildren(...stations.map(s => {
    const tr = row([
      s.id,
      { text: s.connected ? "connected" : "offline", cls: s.connected ? "up" : "off" },
      s.ocppVersion ?? "",
      s.connectors.map(c => c.status).join(", ") || "—",
      s.path.slice(1).join(" → ") || "direct",
      { text: kwh(s.energyWh), cls: "num energy" },
      { text: kwh(s.sessionWh), cls: "num" },
    ]);
    tr.dataset.station = s.id;
    tr.dataset.energyWh = s.energyWh;
    return tr;
  }));
}

function renderRoutes(nodes) {
  const box = document.getElementById("routes");
  box.replaceChildren(...nodes.map(n => {
    const card = el("div", { class: "routes-card", "data-node": n.nodeId });
    const up = (n.upstreams ?? []).map(u => `${u.id}: ${u.state}`).join(", ");
    card.appendChild(el("h3", {}, `${n.nodeId}${up ? "  (upstreams " + up + ")" : ""}`));
    if (n.error) { card.appendChild(el("p", { class: "error" }, n.error)); return card; }
    const table = el("table", { class: "routes" });
    const head = el("tr");
    for (const h of ["destination", "via link", "origin", "expires", "link"]) head.appendChild(el("th", {}, h));
    table.appendChild(head);
    for (const r of n.routes) {
      table.appendChild(row([
        r.destination, r.link, r.origin,
        r.expiresIn == null ? "—" : `${Math.round(r.expiresIn)} s`,
        { text: r.linkUp ? "up" : "down", cls: r.linkUp ? "up" : "off" },
      ]));
    }
    card.appendChild(table);
    return card;
  }));
}

function addMessages(entries) {
  const body = document.querySelector("#messages tbody");
  for (const m of entries) {
    const tr = row([
      time(m.at), m.source, m.station,
      { text: m.direction, cls: `dir-${m.direction}` },
      m.type, m.action ?? "", m.path.join(" → "),
      { text: m.signature, cls: `sig-${m.signature.split(/[: ]/)[0]}` },
    ]);
    tr.dataset.action = m.action ?? "";
    body.insertBefore(tr, body.firstChild);
    messageCount += 1;
  }
  while (body.children.length > MAX_MESSAGES) body.removeChild(body.lastChild);
  document.getElementById("message-count").textContent = `(${messageCount} seen)`;
}

function renderState(state) {
  document.getElementById("csms-id").textContent = `— ${state.csms}`;
  document.getElementById("updated").textContent = `updated ${time(state.at)} UTC`;
  renderTopology(state.topology);
  renderStations(state.stations);
  renderRoutes(state.nodes);
}

function connect() {
  const live = document.getElementById("live");
  const source = new EventSource("/api/events");
  source.addEventListener("open", () => { live.textContent = "live"; live.className = "badge"; });
  source.addEventListener("error", () => { live.textContent = "reconnecting…"; live.className = "badge down"; });
  source.addEventListener("state", ev => renderState(JSON.parse(ev.data)));
  source.addEventListener("messages", ev => addMessages(JSON.parse(ev.data)));
}

connect();
