// The page at /: an image in (drop, paste, pick, or ?demo=URL), its classes drawn over it in a canvas.
// It asks /predict for the label map (one class id per pixel, a grayscale PNG) and colours it here, so the
// opacity slider and the per-class toggles need no new request. Images the browser cannot show (TIFF) are
// shown as the server's overlay (?format=overlay) instead. body[data-state] is "done" once drawn.
"use strict";

const $ = (id) => document.getElementById(id);
const page = { classes: [], shown: new Set(), base: null, labels: null, width: 0, height: 0, maskUrl: null };

async function start() {
  const meta = await (await fetch("/metadata")).json();
  page.classes = meta.classes;
  page.classes.forEach((entry) => page.shown.add(entry.id));
  $("model").textContent = `${meta.model} · ${meta.n_classes} classes · ${meta.channels} channel(s) · ${meta.engine}`;
  const demo = new URLSearchParams(location.search).get("demo");
  if (demo) {
    const response = await fetch(demo);
    segment(await response.blob(), demo.startsWith("data:") ? "demo.png" : demo.split("/").pop());
  }
}

async function segment(file, name) {
  document.body.dataset.state = "busy";
  say(`segmenting ${name}…`);
  try {
    const response = await fetch("/predict", { method: "POST", body: file });
    if (!response.ok) {
      const answer = await response.json().catch(() => ({ error: response.statusText }));
      throw new Error(answer.error);
    }
    const mask = await response.blob();
    const labels = await pixels(await createImageBitmap(mask, { colorSpaceConversion: "none" }));
    page.width = labels.width;
    page.height = labels.height;
    page.labels = new Uint8Array(labels.width * labels.height); // a gray PNG: red is the class id
    for (let i = 0; i < page.labels.length; i++) page.labels[i] = labels.data[4 * i];
    page.base = await background(file, labels);
    if (page.maskUrl) URL.revokeObjectURL(page.maskUrl);
    page.maskUrl = URL.createObjectURL(mask);
    $("download").href = page.maskUrl;
    $("download").download = `${name.replace(/\.[^.]*$/, "") || "image"}_labels.png`;
    legend();
    draw();
    $("result").hidden = false;
    say(`${name}: ${page.width}×${page.height}`);
    document.body.dataset.state = "done";
  } catch (err) {
    say(err.message, true);
    document.body.dataset.state = "error";
  }
}

async function background(file, labels) {
  // The image itself where the browser decodes it; else the server's overlay of it.
  try {
    return await createImageBitmap(file, { resizeWidth: labels.width, resizeHeight: labels.height });
  } catch {
    const overlay = await fetch("/predict?format=overlay", { method: "POST", body: file });
    say("this browser cannot show the image: showing the server's overlay");
    return createImageBitmap(await overlay.blob());
  }
}

async function pixels(bitmap) {
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const context = canvas.getContext("2d");
  context.drawImage(bitmap, 0, 0);
  return context.getImageData(0, 0, bitmap.width, bitmap.height);
}

function draw() {
  const canvas = $("view");
  canvas.width = page.width;
  canvas.height = page.height;
  const context = canvas.getContext("2d");
  context.drawImage(page.base, 0, 0, page.width, page.height);
  const image = context.getImageData(0, 0, page.width, page.height);
  const alpha = $("opacity").value / 100;
  const colours = page.classes.map((entry) => (page.shown.has(entry.id) ? entry.color : null));
  const data = image.data;
  for (let i = 0; i < page.labels.length; i++) {
    const colour = colours[page.labels[i]];
    if (!colour) continue;
    for (let c = 0; c < 3; c++) data[4 * i + c] = (1 - alpha) * data[4 * i + c] + alpha * colour[c];
  }
  context.putImageData(image, 0, 0);
}

function legend() {
  const counts = new Array(page.classes.length).fill(0);
  for (const id of page.labels) counts[id] = (counts[id] || 0) + 1;
  const rows = page.classes.map((entry) => {
    const row = document.createElement("tr");
    row.className = page.shown.has(entry.id) ? "" : "off";
    const toggle = Object.assign(document.createElement("input"), { type: "checkbox", checked: page.shown.has(entry.id) });
    toggle.setAttribute("aria-label", `show ${entry.name ?? entry.id}`);
    toggle.addEventListener("change", () => {
      toggle.checked ? page.shown.add(entry.id) : page.shown.delete(entry.id);
      row.className = toggle.checked ? "" : "off";
      draw();
    });
    const swatch = Object.assign(document.createElement("span"), { className: "swatch" });
    swatch.style.background = `rgb(${entry.color.join(",")})`;
    const name = document.createElement("td");
    name.append(swatch, entry.name ?? `class ${entry.id}`);
    const share = Object.assign(document.createElement("td"), { className: "share" });
    share.textContent = `${((100 * counts[entry.id]) / page.labels.length).toFixed(1)} %`;
    const cell = document.createElement("td");
    cell.append(toggle);
    row.append(cell, name, share);
    return row;
  });
  $("legend").tBodies[0].replaceChildren(...rows);
}

function say(text, error = false) {
  $("status").textContent = text;
  $("status").className = error ? "error" : "";
}

function take(files) {
  const file = [...(files || [])].find((f) => f.size > 0);
  if (file) segment(file, file.name || "pasted image");
}

$("pick").addEventListener("change", (event) => take(event.target.files));
$("opacity").addEventListener("input", () => page.labels && draw());
const drop = $("drop");
drop.addEventListener("dragover", (event) => { event.preventDefault(); drop.classList.add("over"); });
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", (event) => {
  event.preventDefault();
  drop.classList.remove("over");
  take(event.dataTransfer.files);
});
document.addEventListener("paste", (event) => take(event.clipboardData.files));
start().catch((err) => say(`cannot read /metadata: ${err.message}`, true));
