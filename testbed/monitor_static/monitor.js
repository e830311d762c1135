// diffair's live monitor: draws the snapshots the server pushes (Server-Sent Events, at most
// 10 a second), or polls /state.json where EventSource is missing. No external scripts.
"use strict";

const waterfallRows = [];

function setText(id, value) {
  document.getElementById(id).textContent = value;
}

function drawSpectrum(spectrum) {
  const canvas = document.getElementById("spectrum");
  const ctx = canvas.getContext("2d");
  ctx.fillStyle = "#111";
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  if (!spectrum.length) return;
  const top = Math.max(...spectrum) + 3, bottom = top - 80;
  ctx.strokeStyle = "#6cf";
  ctx.beginPath();
  spectrum.forEach((db, i) => {
    const x = (i / (spectrum.length - 1)) * canvas.width;
    const y = ((top - db) / (top - bottom)) * canvas.height;
    i ? ctx.lineTo(x, y) : ctx.moveTo(x, y);
  });
  ctx.stroke();
  drawWaterfall(spectrum, top, bottom);
}

function drawWaterfall(spectrum, top, bottom) {
  const canvas = document.getElementById("waterfall");
  const ctx = canvas.getContext("2d");
  waterfallRows.unshift(spectrum);
  waterfallRows.length = Math.min(waterfallRows.length, canvas.height / 3);
  const cell = canvas.width / spectrum.length;
  waterfallRows.forEach((row, r) => {
    row.forEach((db, i) => {
      const level = Math.max(0, Math.min(1, (db - bottom) / (top - bottom)));
      ctx.fillStyle = `hsl(${240 - 240 * level}, 90%, ${15 + 45 * level}%)`;
      ctx.fillRect(i * cell, r * 3, cell + 1, 3);
    });
  });
}

function drawConstellation(points) {
  const canvas = document.getElementById("constellation");
  const ctx = canvas.getContext("2d");
  ctx.fillStyle = "#111";
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.strokeStyle = "#444";
  ctx.beginPath();
  ctx.moveTo(canvas.width / 2, 0); ctx.lineTo(canvas.width / 2, canvas.height);
  ctx.moveTo(0, canvas.height / 2); ctx.lineTo(canvas.width, canvas.height / 2);
  ctx.stroke();
  const scale = canvas.width / 6;  // +-3 around the origin (unit-power symbols)
  ctx.fillStyle = "#fc6";
  for (const [re, im] of points) {
    ctx.fillRect(canvas.width / 2 + re * scale - 1, canvas.height / 2 - im * scale - 1, 2, 2);
  }
}

function drawSeries(id, values) {
  const canvas = document.getElementById(id);
  const ctx = canvas.getContext("2d");
  ctx.fillStyle = "#111";
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.fillStyle = "#aaa";
  ctx.font = "11px sans-serif";
  const label = canvas.dataset.label;
  if (!values.length) { ctx.fillText(label, 4, 12); return; }
  const lo = Math.min(...values), hi = Math.max(...values), span = hi - lo || 1;
  ctx.fillText(`${label}: ${values[values.length - 1]} (${lo} .. ${hi})`, 4, 12);
  ctx.strokeStyle = "#8e8";
  ctx.beginPath();
  values.forEach((v, i) => {
    const x = (i / Math.max(values.length - 1, 1)) * canvas.width;
    const y = canvas.height - 4 - ((v - lo) / span) * (canvas.height - 20);
    i ? ctx.lineTo(x, y) : ctx.moveTo(x, y);
  });
  ctx.stroke();
}

function showImages(images) {
  const box = document.getElementById("images");
  for (const entry of images) {
    let figure = document.getElementById(`image_${entry.receiver}`);
    if (!figure) {
      figure = document.createElement("figure");
      figure.id = `image_${entry.receiver}`;
      figure.innerHTML = "<img alt=''><figcaption></figcaption>";
      box.appendChild(figure);
    }
    const img = figure.querySelector("img");
    if (img.getAttribute("src") !== entry.url) img.setAttribute("src", entry.url);
    const psnr = entry.psnr_db === null ? "" : `: ${entry.psnr_db.toFixed(2)} dB`;
    figure.querySelector("figcaption").textContent = entry.receiver + psnr;
  }
}

function update(state) {
  for (const key of ["frames_ok", "frames_bad", "gaps", "samples_lost", "overflows"]) setText(key, state[key]);
  setText("realtime_factor", state.realtime_factor.toFixed(2));
  drawSpectrum(state.spectrum_db);
  drawConstellation(state.constellation);
  drawSeries("series_snr_db", state.snr_db);
  drawSeries("series_evm_db", state.evm_db);
  drawSeries("series_cfo_hz", state.cfo_hz);
  showImages(state.images);
  setText("status", `live, update ${state.version}`);
}

function poll() {
  fetch("/state.json").then((r) => r.json()).then(update)
    .catch(() => setText("status", "disconnected: retrying"))
    .finally(() => setTimeout(poll, 500));
}

if (window.EventSource) {
  const events = new EventSource("/events");
  events.onmessage = (message) => update(JSON.parse(message.data));
  events.onerror = () => setText("status", "disconnected: reconnecting");  // EventSource retries itself
} else {
  poll();
}
