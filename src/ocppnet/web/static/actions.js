// Operator actions on the dashboard: remote start/stop, reset and a charging limit per
// station, sent through the CSMS's operator API (/api/v1, bearer token if one is configured).
// The panel stays hidden when the page is served without that API.
"use strict";

(() => {
  const $ = id => document.getElementById(id);
  const select = $("action-station");
  const tokenInput = $("api-token");
  tokenInput.value = sessionStorage.getItem("ocppnet-api-token") || "";
  tokenInput.addEventListener("change", () =>
    sessionStorage.setItem("ocppnet-api-token", tokenInput.value.trim()));

  async function api(method, path, body) {
    const headers = { "Content-Type": "application/json" };
    const token = tokenInput.value.trim();
    if (token) headers.Authorization = `Bearer ${token}`;
    const response = await fetch(`/api/v1${path}`, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    let data = {};
    try { data = await response.json(); } catch (e) { /* not JSON: keep the status */ }
    if (!response.ok) throw new Error(`HTTP ${response.status}: ${data.detail || response.statusText}`);
    return data;
  }

  function show(text, ok) {
    const out = $("action-result");
    out.textContent = text;
    out.className = ok ? "up" : "error";
  }

  // the station list follows the dashboard's state (connected stations only)
  document.addEventListener("ocppnet:stations", ev => {
    const ids = ev.detail.filter(s => s.connected).map(s => s.id);
    if (ids.join("\n") === [...select.options].map(o => o.value).join("\n")) return;
    const chosen = select.value;
    select.replaceChildren(...ids.map(id => {
      const option = document.createElement("option");
      option.value = id;
      option.textContent = id;
      return option;
    }));
    if (ids.includes(chosen)) select.value = chosen;
  });

  async function act(label, run) {
    const station = select.value;
    if (!station) { show("choose a station first", false); return; }
    show(`${label} ${station}: sent…`, true);
    try {
      const answer = await run(encodeURIComponent(station));
      show(`${label} ${station}: ${answer.status ?? JSON.stringify(answer)}`,
           !answer.status || ["Accepted", "Scheduled"].includes(answer.status));
    } catch (e) {
      show(`${label} ${station}: ${e.message}`, false);
    }
  }

  $("act-start").addEventListener("click", () => act("remote start", s =>
    api("POST", `/stations/${s}/remote-start`, { idToken: $("action-id-token").value || "DASHBOARD" })));
  $("act-stop").addEventListener("click", () => act("remote stop", async s => {
    const running = await api("GET", `/transactions?station=${s}&active=true`);
    if (!running.length) throw new Error("no running transaction");
    return api("POST", `/stations/${s}/remote-stop`,
               { transactionId: running[running.length - 1].transactionId });
  }));
  $("act-reset").addEventListener("click", () => act("reset", s =>
    api("POST", `/stations/${s}/reset`, { type: "Immediate" })));
  $("act-limit").addEventListener("click", () => act("limit", s =>
    api("POST", `/stations/${s}/charging-limit`, { limit: Number($("action-limit").value), unit: "W" })));

  fetch("/api/v1/health").then(r => { if (r.ok) $("actions-section").hidden = false; },
                               () => {});
})();
