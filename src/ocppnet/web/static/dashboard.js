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
  // a tree from the CSMS: each vertex hangs under a neighbour one layer up; leaves share the
  // width, so a node's stations sit under it and lines do not cross
  const byId = new Map(vertices.map(v => [v.id, v]));
  const neighbours = new Map(vertices.map(v => [v.id, []]));
  for (const e of edges) { neighbours.get(e.a)?.push(e.b); neighbours.get(e.b)?.push(e.a); }
  const children = new Map(vertices.map(v => [v.id, []]));
  const roots = [];
  for (const v of vertices) {
    const parent = neighbours.get(v.id).map(n => byId.get(n))
      .filter(n => n && n.layer === v.layer - 1).sort((a, b) => a.id.localeCompare(b.id))[0];
    (parent ? children.get(parent.id) : roots).push(v);
  }
  const order = v => (v.kind === "station" ? 0 : 1);
  for (const list of children.values()) list.sort((a, b) => order(a) - order(b) || a.id.localeCompare(b.id));
  const leaves = new Map();
  const count = v => {
    const n = children.get(v.id).reduce((sum, c) => sum + count(c), 0) || 1;
    leaves.set(v.id, n);
    return n;
  };
  const total = roots.reduce((sum, r) => sum + count(r), 0) || 1;
  const unit = width / total;
  const pos = new Map();
  let maxLayer = 0;
  const place = (v, start) => {
    pos.set(v.id, { x: (start + leaves.get(v.id) / 2) * unit, y: 40 + v.layer * 95 });
    maxLayer = Math.max(maxLayer, v.layer);
    let offset = start;
    for (const c of children.get(v.id)) { place(c, offset); offset += leaves.get(c.id); }
  };
  let offset = 0;
  for (const r of roots) { place(r, offset); offset += leaves.get(r.id); }
  return { pos, height: 40 + (maxLayer + 1) * 95 };
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
  document.dispatchEvent(new CustomEvent("ocppnet:stations", { detail: stations }));
}

// one row per (destination, link): "learned, topology" instead of two rows
function groupRoutes(routes) {
  const rows = new Map();
  for (const r of routes) {
    const key = `${r.destination}\u0000${r.link}`;
    const g = rows.get(key);
    if (!g) { rows.set(key, { ...r, origins: [r.origin] }); continue; }
    g.origins.push(r.origin);
    g.linkUp = g.linkUp || r.linkUp;
    if (g.expiresIn != null) g.expiresIn = r.expiresIn == null ? null : Math.max(g.expiresIn, r.expiresIn);
  }
  return [...rows.values()];
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
    for (const r of groupRoutes(n.routes)) {
      table.appendChild(row([
        r.destination, r.link, r.origins.join(", "),
        r.expiresIn == null ? "—" : `${Math.round(r.expiresIn)} s`,
        { text: r.linkUp ? "up" : "down", cls: r.linkUp ? "up" : "off" },
      ]));
    }
    card.appendChild(table);
    return card;
  }));
}

function signatureClass(verdict) {
  if (/reject|drop|invalid|replayed|untrusted|unknown|expired|future|malformed/.test(verdict)) return "sig-bad";
  return verdict.startsWith("valid") ? "sig-valid" : "sig-other";
}

function addMessages(entries) {
  const body = document.querySelector("#messages tbody");
  for (const m of entries) {
    const tr = row([
      time(m.at), m.source, m.station,
      { text: m.direction === "in" ? "from station" : "to station", cls: `dir-${m.direction}` },
      m.type, m.action ?? "", m.path.join(" → "),
      { text: m.signature, cls: signatureClass(m.signature) },
    ]);
    tr.dataset.action = m.action ?? "";
    if (m.signature === "unsigned") tr.classList.add("unsigned");
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
  document.dispatchEvent(new CustomEvent("ocppnet:state", { detail: state }));  // panels
}

function connect() {
  const live = document.getElementById("live");
  const source = new EventSource("/api/events");
  source.addEventListener("open", () => { live.textContent = "live"; live.className = "badge"; });
  source.addEventListener("error", () => { live.textContent = "reconnecting…"; live.className = "badge down"; });
  source.addEventListener("state", ev => renderState(JSON.parse(ev.data)));
  source.addEventListener("messages", ev => addMessages(JSON.parse(ev.data)));
}

document.getElementById("signed-only").addEventListener("change", ev => {
  document.getElementById("messages").classList.toggle("signed-only", ev.target.checked);
});
connect();
