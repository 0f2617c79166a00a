// The phone page: pay (simulated), open the channel, start, live values, stop, settle.
import { ChannelFailure, openChannel } from "./channel.js";

const cfg = JSON.parse(document.body.dataset.config);
const $ = (id) => document.getElementById(id);
const POLL_MS = 700;
let channel = null;
let timer = null;
let settled = false;

const HELP = {
  WrongStationKey: "The station's key does not match the QR code. Do not continue: this may " +
    "not be the station you scanned.",
  BadSignature: "The station's channel key is not signed by the station of the QR code. Do " +
    "not continue.",
  Tampered: "A message from the station was altered on the way and was refused.",
  Replayed: "A message from the station was replayed or came out of order and was refused.",
  InsecureContext: "This page cannot protect the channel here.",
};

async function post(step, body) {
  const response = await fetch(`${cfg.api}/sessions/${cfg.session}/${step}`, {
    method: "POST", headers: { "content-type": "application/json" },
    body: JSON.stringify(body || {}),
  });
  const data = await response.json();
  if (!response.ok) {
    throw new ChannelFailure(data.error || "Error", data.detail || data.message || "failed");
  }
  return data;
}

function showError(reason, message) {
  const box = $("error");
  box.hidden = false;
  box.dataset.reason = reason;
  box.textContent = `${HELP[reason] || "Refused."} (${reason}: ${message})`;
  console.warn(`event=webpay_page_refused reason=${reason} detail=${message}`);
  post("report", { reason, message }).catch(() => {});
}

function setStatus(text, state) {
  $("status").textContent = text;
  document.body.dataset.state = state;
}

function show(status) {
  $("power").textContent = (status.powerW / 1000).toFixed(2);
  $("energy").textContent = (status.energyWh / 1000).toFixed(3);
  $("cost").textContent = status.cost.toFixed(2);
  $("currency").textContent = status.currency;
  $("live").dataset.energyWh = String(status.energyWh);
  $("live").hidden = false;
  $("updates").textContent = String(Number($("updates").textContent) + 1);
}

async function ask(message) {
  const record = await channel.seal(message);
  const answer = await post("channel", { phase: "Data", ...record });
  if (answer.status !== "Accepted") {
    const info = answer.statusInfo || {};
    throw new ChannelFailure(info.reasonCode || "Rejected", info.additionalInfo || "refused");
  }
  return channel.open(answer.counter, answer.ciphertext);
}

async function handle(status) {
  show(status);
  if (status.state === "Charging") {
    setStatus("Charging", "Charging");
    $("stop").hidden = false;
  } else if (status.state === "Ended") {
    clearInterval(timer);
    $("stop").hidden = true;
    setStatus("Session ended", "Ended");
    if (!settled && status.receipt) {
      settled = true;
      await post("channel", { phase: "Close" });
      const result = await post("receipt", { receipt: status.receipt });
      $("receipt").hidden = false;
      $("receipt").textContent =
        `Paid ${result.amount.toFixed(2)} ${result.currency} (simulated, ref ${result.pspRef})`;
      setStatus("Session ended and paid", "Settled");
    }
  }
}

async function poll() {
  try {
    await handle(await ask({ type: "status" }));
  } catch (e) {
    if (e instanceof ChannelFailure) showError(e.reason, e.message); else throw e;
  }
}

async function pay() {
  $("pay").disabled = true;
  try {
    setStatus("Paying (simulated)…", "Paying");
    const paid = await post("pay");
    $("psp").textContent = paid.pspRef;
    $("pay").hidden = true;
    setStatus("Opening a secure channel to the station…", "Opening");
    channel = await openChannel(paid.channelId, cfg.station, cfg.fingerprint,
                                (fields) => post("channel", fields));
    $("secure").hidden = false;
    setStatus("Starting the session…", "Starting");
    await post("start");
    setStatus("Waiting for the car…", "Waiting");
    await poll();
    timer = setInterval(poll, POLL_MS);
  } catch (e) {
    if (e instanceof ChannelFailure) {
      showError(e.reason, e.message);
      setStatus("Stopped: nothing was started", "Refused");
    } else {
      showError("PageError", String(e));
    }
  }
}

async function stop() {
  $("stop").disabled = true;
  try {
    await handle(await ask({ type: "stop" }));
  } catch (e) {
    if (e instanceof ChannelFailure) showError(e.reason, e.message); else throw e;
  }
}

if (!(window.isSecureContext && window.crypto && window.crypto.subtle)) {
  $("pay").disabled = true;
  showError("InsecureContext", "this page must be served over https (or from localhost): " +
            "the browser offers WebCrypto only there, and nothing is paid without it");
}
$("pay").addEventListener("click", pay);
$("stop").addEventListener("click", stop);
