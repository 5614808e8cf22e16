// valuegrad's training view: what the page and the Jupyter widget do in the browser.
//
// The same function runs in the page render_page() writes and in the widget (anywidget); only the
// few lines that start it differ (see nn/views/page.py). Python sends numbers, never formatted text:
// every float is a JSON number or a little-endian float64 array in base64, and pyRepr() writes it
// back exactly as Python's repr() would, so a test can compare attributes with float(attr) == x.
//
// payload: see TrainingView.payload() (version 1). palette: the colours draw_network uses, made
// from its constants in Python, so the page and the still picture agree.

// Python's repr() of a float: the shortest digits that read back to x (JavaScript's toString finds
// those), with Python's layout: "1.0" for integral values, an exponent iff it is < -4 or >= 16,
// written "1e-05" / "1.5e+16", and "nan", "inf", "-inf".
function pyRepr(x) {
  "use strict";
  if (typeof x !== "number") return "";
  if (Number.isNaN(x)) return "nan";
  if (x === Infinity) return "inf";
  if (x === -Infinity) return "-inf";
  if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
  const sign = x < 0 ? "-" : "";
  const text = String(Math.abs(x));
  let digits;
  let exp; // the power of ten of the first digit
  const at = text.indexOf("e");
  if (at >= 0) {
    digits = text.slice(0, at).replace(".", "");
    exp = Number(text.slice(at + 1));
  } else {
    const [whole, fraction = ""] = text.split(".");
    if (whole !== "0") {
      digits = whole + fraction;
      exp = whole.length - 1;
    } else {
      const zeros = fraction.length - fraction.replace(/^0+/, "").length;
      digits = fraction.slice(zeros);
      exp = -(zeros + 1);
    }
  }
  digits = digits.replace(/0+$/, "") || "0";
  if (exp < -4 || exp >= 16) {
    const mantissa = digits.length > 1 ? digits[0] + "." + digits.slice(1) : digits;
    return sign + mantissa + "e" + (exp < 0 ? "-" : "+") + String(Math.abs(exp)).padStart(2, "0");
  }
  if (exp < 0) return sign + "0." + "0".repeat(-exp - 1) + digits;
  const whole = digits.slice(0, exp + 1).padEnd(exp + 1, "0");
  return sign + whole + "." + (digits.slice(exp + 1) || "0");
}

// base64 of little-endian float64 values -> Float64Array (exact: no decimal text in between).
function decodeFloats(b64) {
  "use strict";
  const bytes = atob(b64 || "");
  const view = new DataView(new ArrayBuffer(bytes.length));
  for (let i = 0; i < bytes.length; i++) view.setUint8(i, bytes.charCodeAt(i));
  const out = new Float64Array(Math.floor(bytes.length / 8));
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat64(8 * i, true);
  return out;
}

function valuegradTraining(host, initial, model, palette) {
  "use strict";
  const SVG = "http://www.w3.org/2000/svg";
  const MODES = ["weights", "grads", "updates"];
  const SYMBOL = { weights: "w", grads: "dL/dw", updates: "\u0394w" };
  const ARRAY = { weights: "state", grads: "grads", updates: "updates" };
  const ATTR = { weights: "data-weight", grads: "data-grad", updates: "data-update" };
  const FIELDS = ["step", "loss", "accuracy", "val_loss", "val_accuracy"];

  let payload = null;
  let n = 0;
  let k = -1;
  let mode = "weights";
  let timer = null;
  let svgText = null;
  let arrays = null; // {weights, grads, updates}: Float64Array of n * nParams
  let nParams = 0;
  let edgeEls = []; // per key: the edge element or null
  let matrixCells = new Map(); // "L" -> {g, rows, cols, cells: [[key index, row, col]]}
  let legend = null;
  let svgPanel = null;
  let stepperShown = null;
  const listeners = [];

  function on(target, type, handler) {
    target.addEventListener(type, handler);
    listeners.push([target, type, handler]);
  }
  function make(tag, attrs, text) {
    const el = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) el.setAttribute(name, value);
    if (text !== undefined) el.textContent = text;
    return el;
  }
  function svgEl(tag, attrs) {
    const el = document.createElementNS(SVG, tag);
    for (const [name, value] of Object.entries(attrs || {})) el.setAttribute(name, String(value));
    return el;
  }
  function num(x) { // JSON numbers; non-finite ones arrive as the strings "nan", "inf", "-inf"
    if (typeof x === "number") return x;
    if (x === "nan") return NaN;
    if (x === "inf") return Infinity;
    if (x === "-inf") return -Infinity;
    return null;
  }
  function readable(x, percent) {
    if (x === null) return "\u2014";
    if (!Number.isFinite(x)) return pyRepr(x);
    if (percent) return String(Number((100 * x).toFixed(1))) + "%";
    return String(Number(x.toPrecision(4)));
  }
  function short(x) { return Number.isFinite(x) ? String(Number(x.toPrecision(3))) : pyRepr(x); }
  function hex(c) { return "#" + c.map((v) => v.toString(16).padStart(2, "0")).join(""); }

  // --- the frame: title, controls, fields, curves, network, panel ---------------------------------
  const root = make("div", { class: "vgt", "data-valuegrad-network": "1", "data-snapshot": "-1", "data-snapshots": "0" });
  const title = make("div", { class: "vgt-title" });
  const bar = make("div", { class: "vgt-bar" });
  const prevButton = make("button", { type: "button", "data-action": "prev", title: "previous snapshot" }, "\u25C0 prev");
  const playButton = make("button", { type: "button", "data-action": "play", title: "play / pause" }, "\u25B6 play");
  const nextButton = make("button", { type: "button", "data-action": "next", title: "next snapshot" }, "next \u25B6");
  const slider = make("input", { type: "range", "data-action": "seek", min: "0", max: "0", step: "1", value: "0",
    "aria-label": "snapshot" });
  const counter = make("span", { class: "vgt-count" });
  const modeSelect = make("select", { "data-action": "mode", "aria-label": "what the edges show" });
  for (const m of MODES) modeSelect.appendChild(make("option", { value: m }, m));
  const modeLabel = make("label", { class: "vgt-mode" }, "edges: ");
  modeLabel.appendChild(modeSelect);
  bar.append(prevButton, playButton, nextButton, slider, counter, modeLabel);
  const fieldRow = make("div", { class: "vgt-fields" });
  const fieldEls = {};
  const NAMES = { step: "step", loss: "loss", accuracy: "accuracy", val_loss: "held-out loss",
    val_accuracy: "held-out accuracy" };
  for (const name of FIELDS) {
    const box = make("span", { class: "vgt-field" }, NAMES[name] + " ");
    fieldEls[name] = make("b", { "data-field": name, "data-value": "" }, "\u2014");
    box.appendChild(fieldEls[name]);
    fieldRow.appendChild(box);
  }
  const charts = make("div", { class: "vgt-charts" });
  const network = make("div", { class: "vgt-network" });
  const side = make("div", { class: "vgt-side" });
  const panel = make("img", { class: "vgt-panel", "data-field": "panel", alt: "the model's output at this snapshot" });
  panel.hidden = true;
  side.append(charts, panel);
  const body = make("div", { class: "vgt-body" });
  body.append(network, side);
  const waiting = make("div", { class: "vgt-waiting" }, "waiting for the first snapshot\u2026");
  const stepperBox = make("div", { class: "vgt-stepper-box" });
  root.append(title, bar, fieldRow, waiting, body, stepperBox);
  host.appendChild(root);

  // --- curves ---------------------------------------------------------------------------------------
  const CW = 340;
  const CH = 150;
  const PAD = { left: 44, right: 10, top: 18, bottom: 22 };
  let chartInfo = [];

  function drawCharts() {
    charts.textContent = "";
    chartInfo = [];
    const c = payload.curves || {};
    const snaps = payload.snapshots;
    const steps = [].concat(c.step || [], c.val_step || [], snaps.step || []).map(num).filter(Number.isFinite);
    const x0 = steps.length ? Math.min(...steps) : 0;
    const x1 = steps.length ? Math.max(...steps) : 1;
    for (const [what, label] of [["loss", "loss"], ["accuracy", "accuracy"]]) {
      const train = (c.step || []).map((s, i) => [num(s), num((c[what] || [])[i])]);
      const held = (c.val_step || []).map((s, i) => [num(s), num((c["val_" + what] || [])[i])]);
      const ys = train.concat(held).map((p) => p[1]).filter(Number.isFinite);
      let y0 = ys.length ? Math.min(...ys) : 0;
      let y1 = ys.length ? Math.max(...ys) : 1;
      if (what === "accuracy") { y0 = Math.min(0, y0); y1 = Math.max(1, y1); }
      if (y1 === y0) { y0 -= 0.5; y1 += 0.5; }
      const sx = (x) => PAD.left + (x1 === x0 ? 0.5 : (x - x0) / (x1 - x0)) * (CW - PAD.left - PAD.right);
      const sy = (y) => PAD.top + (y1 - y) / (y1 - y0) * (CH - PAD.top - PAD.bottom);
      const svg = svgEl("svg", { class: "vgt-chart", "data-curve": what, width: CW, height: CH,
        viewBox: "0 0 " + CW + " " + CH });
      svg.appendChild(svgEl("rect", { x: PAD.left, y: PAD.top, width: CW - PAD.left - PAD.right,
        height: CH - PAD.top - PAD.bottom, fill: "#ffffff", stroke: "#cccccc" }));
      const text = (x, y, s, anchor, cls) => {
        const t = svgEl("text", { x, y, "text-anchor": anchor, class: cls || "vgt-axis" });
        t.textContent = s;
        svg.appendChild(t);
      };
      text(PAD.left, 12, label + " (training" + (held.length ? ", held-out dashed)" : ")"), "start", "vgt-chart-title");
      text(PAD.left - 4, PAD.top + 4, short(y1), "end");
      text(PAD.left - 4, CH - PAD.bottom, short(y0), "end");
      text(PAD.left, CH - 6, "step " + x0, "start");
      text(CW - PAD.right, CH - 6, String(x1), "end");
      for (const [series, points, cls] of [["train", train, "vgt-train"], ["val", held, "vgt-val"]]) {
        const finite = points.filter((p) => Number.isFinite(p[0]) && Number.isFinite(p[1]));
        if (!finite.length) continue;
        svg.appendChild(svgEl("polyline", { "data-series": series, class: cls, fill: "none",
          points: finite.map((p) => sx(p[0]).toFixed(2) + "," + sy(p[1]).toFixed(2)).join(" ") }));
      }
      const marker = svgEl("line", { "data-marker": what, class: "vgt-marker", y1: PAD.top, y2: CH - PAD.bottom,
        x1: -10, x2: -10 });
      const dot = svgEl("circle", { class: "vgt-dot", r: 3.5, cx: -10, cy: -10 });
      svg.append(marker, dot);
      charts.appendChild(svg);
      chartInfo.push({ what, sx, sy, marker, dot });
    }
  }

  function moveMarkers() {
    for (const info of chartInfo) {
      const step = num(payload.snapshots.step[k]);
      const value = num((payload.snapshots[info.what] || [])[k]);
      const x = Number.isFinite(step) ? info.sx(step) : -10;
      info.marker.setAttribute("x1", x.toFixed(2));
      info.marker.setAttribute("x2", x.toFixed(2));
      info.marker.setAttribute("data-step", Number.isFinite(step) ? String(step) : "");
      const ok = Number.isFinite(value) && Number.isFinite(step);
      info.dot.setAttribute("cx", ok ? x.toFixed(2) : "-10");
      info.dot.setAttribute("cy", ok ? info.sy(value).toFixed(2) : "-10");
    }
  }

  // --- the network ------------------------------------------------------------------------------------
  function buildNetwork() {
    const net = payload.network;
    svgText = net.svg;
    network.innerHTML = net.svg;
    const svg = network.querySelector("svg");
    // only the view's root carries the hook, so that [data-valuegrad-network] finds one element
    if (svg) svg.removeAttribute("data-valuegrad-network");
    const byEdge = new Map();
    network.querySelectorAll("[data-edge]").forEach((el) => byEdge.set(el.getAttribute("data-edge"), el));
    edgeEls = (net.edge_of_key || []).map((id) => (id === null || id === undefined ? null : byEdge.get(id) || null));
    matrixCells = new Map();
    (net.matrix_of_key || []).forEach((where, p) => {
      if (!where) return;
      const L = String(where[0]);
      if (!matrixCells.has(L)) {
        matrixCells.set(L, { g: network.querySelector('[data-matrix="' + L + '"]'), rows: 0, cols: 0, cells: [] });
      }
      const m = matrixCells.get(L);
      m.cells.push([p, where[1], where[2]]);
      m.rows = Math.max(m.rows, where[1] + 1);
      m.cols = Math.max(m.cols, where[2] + 1);
    });
    // the legend draw_network wrote names the quantity; keep it in step with the mode
    legend = null;
    const texts = Array.from(network.querySelectorAll("svg > text"));
    const head = texts.find((t) => /^(edges|matrix cells): /.test(t.textContent));
    if (head) {
      const pos = texts.find((t) => / > 0$/.test(t.textContent));
      const neg = texts.find((t) => / < 0$/.test(t.textContent));
      const big = texts.find((t) => /^\|.*\| = /.test(t.textContent));
      legend = { head, pos, neg, big, what: head.textContent.split(":")[0] };
    }
    // a two-input model's decision panel is drawn in the SVG (with the data points on it): each
    // snapshot's picture goes there; other models show theirs beside the curves
    svgPanel = network.querySelector('[data-panel="output"] image');
    network.querySelectorAll("[data-neuron]").forEach((el) => {
      const id = el.getAttribute("data-neuron");
      if (payload.steppers && payload.steppers[id]) el.classList.add("vgt-has-stepper");
      on(el, "click", () => openStepper(id));
    });
  }

  function modeValues(m) { return arrays ? arrays[m] : null; }

  function paintEdges() {
    const values = modeValues(mode);
    const base = k * nParams;
    let scale = 0;
    for (let p = 0; p < nParams; p++) {
      const v = Math.abs(values[base + p]);
      if (v > scale) scale = v; // NaN never wins a comparison
    }
    for (let p = 0; p < nParams; p++) {
      const el = edgeEls[p];
      if (!el) continue;
      const w = arrays.weights[base + p];
      const g = arrays.grads[base + p];
      const u = arrays.updates[base + p];
      el.setAttribute("data-weight", pyRepr(w));
      el.setAttribute("data-grad", pyRepr(g));
      el.setAttribute("data-update", pyRepr(u));
      const q = values[base + p];
      let colour = palette.zero;
      let width = 0.4;
      let opacity = 0.35;
      if (Number.isFinite(q) && q !== 0 && scale > 0 && Number.isFinite(scale)) {
        const t = Math.abs(q) / scale;
        colour = q > 0 ? palette.positive : palette.negative;
        width = 0.4 + 3.6 * t;
        opacity = 0.3 + 0.65 * t;
      }
      el.setAttribute("stroke", hex(colour));
      el.setAttribute("stroke-width", width.toFixed(2));
      el.setAttribute("stroke-opacity", opacity.toFixed(2));
      const tip = el.querySelector("title");
      if (tip) tip.textContent = el.getAttribute("data-edge") + ": w " + short(w) + ", grad " + short(g) +
        ", update " + short(u);
    }
    for (const [, m] of matrixCells) paintMatrix(m, values, base, scale);
    if (legend) {
      const s = SYMBOL[mode];
      legend.head.textContent = legend.what + ": snapshot " + (k + 1) + "'s " + mode + " " + s +
        "; blue = positive, orange = negative, " + (legend.what === "edges" ? "width" : "intensity") + " = |" + s +
        "|" + (scale > 0 ? " (largest " + short(scale) + ")" : " (all zero)");
      if (legend.pos) legend.pos.textContent = s + " > 0";
      if (legend.neg) legend.neg.textContent = s + " < 0";
      if (legend.big) legend.big.textContent = "|" + s + "| = " + short(scale);
    }
    root.setAttribute("data-scale", pyRepr(scale));
  }

  // A layer's matrix: the same 64-level colour table as draw_network's heatmaps, drawn on a canvas.
  function paintMatrix(m, values, base, scale) {
    if (!m.g) return;
    const images = m.g.querySelectorAll("image");
    const nIn = m.cols;
    const weights = new ImageData(Math.max(1, nIn), Math.max(1, m.rows));
    const bias = new ImageData(1, Math.max(1, m.rows));
    const top = palette.levels - 1;
    const f = scale > 0 && Number.isFinite(scale) ? top / scale : 0;
    for (const [p, row, col] of m.cells) {
      let v = values[base + p];
      if (!Number.isFinite(v)) v = 0;
      const level = Math.min(top, Math.floor(Math.abs(v) * f + 0.5));
      const c = (v >= 0 ? palette.lutPositive : palette.lutNegative)[level];
      const target = col < 0 ? bias : weights;
      const at = 4 * (col < 0 ? row : row * target.width + col);
      target.data[at] = c[0];
      target.data[at + 1] = c[1];
      target.data[at + 2] = c[2];
      target.data[at + 3] = 255;
    }
    [weights, bias].forEach((image, i) => {
      if (!images[i]) return;
      const canvas = document.createElement("canvas");
      canvas.width = image.width;
      canvas.height = image.height;
      canvas.getContext("2d").putImageData(image, 0, 0);
      images[i].setAttribute("href", canvas.toDataURL("image/png"));
    });
    m.g.setAttribute("data-mode", mode);
    m.g.setAttribute("data-snapshot", String(k));
  }

  function paintNeurons() {
    const images = (payload.snapshots.neuron_images || [])[k] || {};
    for (const [id, uri] of Object.entries(images)) {
      const el = network.querySelector('[data-neuron="' + id + '"] image');
      if (el && uri && el.getAttribute("href") !== uri) el.setAttribute("href", uri);
    }
  }

  // --- the stepper of a neuron ------------------------------------------------------------------------
  function openStepper(id) {
    stepperShown = id;
    stepperBox.textContent = "";
    const box = make("div", { class: "vgt-stepper", "data-valuegrad-stepper": id });
    const html = (payload.steppers || {})[id];
    const close = make("button", { type: "button", "data-action": "close-stepper" }, "\u2715 close");
    on(close, "click", () => { stepperShown = null; stepperBox.textContent = ""; });
    const head = make("div", { class: "vgt-stepper-head" });
    if (k !== n - 1) {
      head.textContent = "neuron " + id + ": its backprop stepper is recorded for the last snapshot (" + n +
        ") only; move there to see it ";
    } else if (!html) {
      head.textContent = "neuron " + id + " has no stepper (input and bias neurons have none) ";
    } else {
      head.textContent = "neuron " + id + " at the last snapshot, for the first training sample ";
    }
    head.appendChild(close);
    box.appendChild(head);
    if (k === n - 1 && html) {
      if (/^\s*(<!DOCTYPE|<html)/i.test(html)) {
        // a whole page: an iframe runs its own scripts without touching this one
        box.appendChild(make("iframe", { class: "vgt-stepper-frame", sandbox: "allow-scripts", srcdoc: html,
          title: "backprop stepper of neuron " + id }));
      } else {
        const inner = make("div", { class: "vgt-stepper-body" });
        inner.innerHTML = html;
        box.appendChild(inner);
      }
    }
    stepperBox.appendChild(box);
  }

  // --- showing a snapshot ---------------------------------------------------------------------------
  function show(target) {
    if (!n) return;
    const to = Math.max(0, Math.min(n - 1, Math.round(Number(target)) || 0));
    k = to;
    const s = payload.snapshots;
    for (const name of FIELDS) {
      const x = num((s[name] || [])[k]);
      const el = fieldEls[name];
      if (name === "step") {
        el.setAttribute("data-value", x === null ? "" : String(x));
        el.textContent = x === null ? "" : String(x);
      } else {
        el.setAttribute("data-value", x === null ? "" : pyRepr(x));
        el.textContent = readable(x, name.endsWith("accuracy"));
      }
    }
    if (arrays) paintEdges();
    paintNeurons();
    const picture = (s.panel || [])[k];
    panel.hidden = !picture || svgPanel !== null;
    const shownIn = svgPanel || panel;
    const attr = svgPanel ? "href" : "src";
    if (picture && shownIn.getAttribute(attr) !== picture) shownIn.setAttribute(attr, picture);
    moveMarkers();
    slider.value = String(k);
    counter.textContent = "snapshot " + (k + 1) + " / " + n;
    prevButton.disabled = k === 0;
    nextButton.disabled = k === n - 1;
    root.setAttribute("data-snapshot", String(k));
    root.setAttribute("data-mode", mode);
    if (stepperShown !== null) openStepper(stepperShown);
  }

  function stop() {
    if (timer !== null) clearInterval(timer);
    timer = null;
    playButton.textContent = "\u25B6 play";
    root.setAttribute("data-playing", "false");
  }

  function play() {
    if (k >= n - 1) show(0);
    timer = setInterval(() => {
      if (k >= n - 1) { stop(); return; }
      show(k + 1);
    }, 400);
    playButton.textContent = "\u275A\u275A pause";
    root.setAttribute("data-playing", "true");
  }

  // --- taking a payload (the first, or a newer one from Python) ---------------------------------------
  function load(next) {
    if (!next || next.version !== 1 || !next.snapshots || !next.network) {
      waiting.hidden = false;
      body.hidden = true;
      return;
    }
    const wasAtEnd = k === n - 1;
    payload = next;
    const s = payload.snapshots;
    n = Number(s.n) || 0;
    nParams = (payload.network.keys || []).length;
    arrays = { weights: decodeFloats(s.state), grads: decodeFloats(s.grads), updates: decodeFloats(s.updates) };
    for (const m of MODES) {
      if (arrays[m].length !== n * nParams) {
        throw new Error("valuegrad training view: snapshots." + ARRAY[m] + " holds " + arrays[m].length +
          " numbers, expected " + n + " x " + nParams);
      }
    }
    title.textContent = payload.title || "";
    if (payload.network.svg !== svgText) buildNetwork();
    drawCharts();
    waiting.hidden = n > 0;
    body.hidden = n === 0;
    slider.max = String(Math.max(0, n - 1));
    root.setAttribute("data-snapshots", String(n));
    if (!n) return;
    // follow the newest snapshot when the user was watching the newest (or playing); else stay put
    show(timer === null && (wasAtEnd || k < 0) ? n - 1 : k);
  }

  on(prevButton, "click", () => { stop(); show(k - 1); });
  on(nextButton, "click", () => { stop(); show(k + 1); });
  on(playButton, "click", () => { if (timer === null) play(); else stop(); });
  on(slider, "input", () => { stop(); show(slider.value); });
  on(modeSelect, "change", () => { mode = modeSelect.value; if (n) show(k); });

  const fromModel = () => load(model.get("payload"));
  if (model) model.on("change:payload", fromModel);
  load(initial);

  return () => {
    stop();
    for (const [target, type, handler] of listeners) target.removeEventListener(type, handler);
    if (model) model.off("change:payload", fromModel);
  };
}
