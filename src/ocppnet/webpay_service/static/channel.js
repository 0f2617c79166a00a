// The phone's end of the encrypted channel to the station, with WebCrypto only.
// Same construction as ocppnet/webpay/channel.py: ECDH P-256, HKDF-SHA256, AES-256-GCM,
// a counter per direction; the station's key is checked against the QR code's fingerprint.
export const PROTOCOL = "ocppnet-webpay-channel/1";
const enc = new TextEncoder();
const dec = new TextDecoder();
const TAG = { p2s: [0, 0, 0, 1], s2p: [0, 0, 0, 2] };

export class ChannelFailure extends Error {
  constructor(reason, message) { super(message); this.reason = reason; }
}

export function b64e(bytes) {
  let text = "";
  for (const b of new Uint8Array(bytes)) text += String.fromCharCode(b);
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export function b64d(text) {
  const padded = text.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((text.length + 3) % 4);
  return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
}

function nonce(direction, counter) {
  const out = new Uint8Array(12);
  out.set(TAG[direction], 0);
  new DataView(out.buffer).setBigUint64(4, BigInt(counter));
  return out;
}

export class Channel {
  constructor(channelId, sendKey, recvKey) {
    this.channelId = channelId; this.sendKey = sendKey; this.recvKey = recvKey;
    this.sent = 0; this.received = 0;
  }
  aad(direction, counter) {
    return enc.encode(`${PROTOCOL}\n${this.channelId}\n${direction}\n${counter}`);
  }
  async seal(message) {
    this.sent += 1;
    const data = await crypto.subtle.encrypt(
      { name: "AES-GCM", iv: nonce("p2s", this.sent), additionalData: this.aad("p2s", this.sent) },
      this.sendKey, enc.encode(JSON.stringify(message)));
    return { counter: this.sent, ciphertext: b64e(data) };
  }
  async open(counter, ciphertext) {
    if (!Number.isInteger(counter) || counter <= this.received) {
      throw new ChannelFailure("Replayed",
        `counter ${counter} replayed or out of order (last accepted ${this.received})`);
    }
    let plain;
    try {
      plain = await crypto.subtle.decrypt(
        { name: "AES-GCM", iv: nonce("s2p", counter), additionalData: this.aad("s2p", counter) },
        this.recvKey, b64d(ciphertext));
    } catch (e) {
      throw new ChannelFailure("Tampered",
        `record ${counter} does not authenticate (tampered ciphertext or wrong key)`);
    }
    this.received = counter;
    return JSON.parse(dec.decode(plain));
  }
}

// relay(fields) sends {phase, ...} to the station (through the web-payment service) and
// returns the station's answer.
export async function openChannel(channelId, stationId, fingerprint, relay) {
  const pair = await crypto.subtle.generateKey({ name: "ECDH", namedCurve: "P-256" }, false,
                                               ["deriveBits"]);
  const clientKey = b64e(await crypto.subtle.exportKey("raw", pair.publicKey));
  const answer = await relay({ phase: "Open", clientKey });
  if (answer.status !== "Accepted") {
    const info = answer.statusInfo || {};
    throw new ChannelFailure(info.reasonCode || "Rejected", info.additionalInfo || "refused");
  }
  const spki = b64d(answer.stationKey);
  const digest = b64e(await crypto.subtle.digest("SHA-256", spki));
  if (digest !== fingerprint) {
    throw new ChannelFailure("WrongStationKey",
      "the station key does not match the QR code's fingerprint");
  }
  const stationKey = await crypto.subtle.importKey(
    "spki", spki, { name: "ECDSA", namedCurve: "P-256" }, false, ["verify"]);
  const transcript = enc.encode(
    [PROTOCOL, channelId, stationId, clientKey, answer.serverKey].join("\n"));
  const valid = await crypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, stationKey,
                                           b64d(answer.signature), transcript);
  if (!valid) {
    throw new ChannelFailure("BadSignature",
      "the channel key's signature does not verify with the station key of the QR code");
  }
  const serverKey = await crypto.subtle.importKey(
    "raw", b64d(answer.serverKey), { name: "ECDH", namedCurve: "P-256" }, false, []);
  const secret = await crypto.subtle.deriveBits({ name: "ECDH", public: serverKey },
                                                pair.privateKey, 256);
  const ikm = await crypto.subtle.importKey("raw", secret, "HKDF", false, ["deriveBits"]);
  const salt = await crypto.subtle.digest("SHA-256", transcript);
  const okm = new Uint8Array(await crypto.subtle.deriveBits(
    { name: "HKDF", hash: "SHA-256", salt, info: enc.encode(`${PROTOCOL} keys`) }, ikm, 512));
  const aes = (raw, use) => crypto.subtle.importKey("raw", raw, "AES-GCM", false, [use]);
  return new Channel(channelId, await aes(okm.slice(0, 32), "encrypt"),
                     await aes(okm.slice(32), "decrypt"));
}
