// valuegrad's backprop stepper: what the viewer does in the browser.
//
// The same function runs in the Jupyter widget (anywidget) and in the page Stepper.save_html()
// writes; only the few lines that start it differ (see autograd/stepper.py). Python computes
// everything numeric: the markup, the layout, and every number as text (repr for the exact value,
// display.number for reading), so this file never does floating-point arithmetic or formatting.
//
// spec = {
//   n, forward, root,                        number of steps, forward pass first?, root's index
//   nodes: [{name, data, dataText, uses, header, final, computedAt}],
//   grad0: [repr], gradText0: [text],        every node's grad before the first step
//   steps: [{kind, node, parent, slot, grad, gradText, line, title, use}],
//   startLine, startTitle,                   what the explanation line says at step 0
// }
function valuegradStepper(root, spec, model, globalKeys) {
  "use strict";
  const steps = spec.steps;
  const n = steps.length;
  const nodes = spec.nodes;
  const find = (selector) => root.querySelector(selector);
  const nodeEls = [];
  const opEls = [];
  const edgeEls = new Map();
  root.querySelectorAll("[data-node]").forEach((el) => { nodeEls[Number(el.getAttribute("data-node"))] = el; });
  root.querySelectorAll("[data-op]").forEach((el) => { opEls[Number(el.getAttribute("data-op"))] = el; });
  root.querySelectorAll("[data-edge]").forEach((el) => { edgeEls.set(el.getAttribute("data-edge"), el); });
  const slider = find('[data-action="seek"]');
  const counter = find('[data-field="step"]');
  const line = find('[data-field="explanation"]');
  const details = find('[data-field="details"]');
  const playButton = find('[data-action="play"]');
  const prevButton = find('[data-action="prev"]');
  const nextButton = find('[data-action="next"]');
  const speedSelect = find('[data-action="speed"]');
  const canvas = find(".vg-canvas");
  const shownText = new Map(); // "node:role" -> the text last written, so unchanged fields are not touched
  let k = -1;
  let timer = null;
  let selected = -1;
  let lit = [];

  // The state after `target` steps, replayed from the start (a few thousand steps at most).
  function stateAt(target) {
    const grad = spec.grad0.slice();
    const gradText = spec.gradText0.slice();
    const shown = nodes.map(() => !spec.forward);
    const applied = nodes.map(() => 0);
    let seeded = !spec.forward;
    for (let s = 0; s < target; s++) {
      const step = steps[s];
      if (step.kind === "forward") {
        shown[step.node] = true;
      } else if (step.kind === "seed") {
        grad[step.node] = step.grad;
        gradText[step.node] = step.gradText;
        seeded = true;
      } else {
        grad[step.parent] = step.grad;
        gradText[step.parent] = step.gradText;
        applied[step.parent] += 1;
      }
    }
    const complete = nodes.map((node, i) => seeded && applied[i] === node.uses);
    return { grad, gradText, shown, applied, seeded, complete };
  }

  // Shrink a text that is wider than its field (fonts differ from the ones Graphviz measured).
  function fit(text) {
    const room = Number(text.getAttribute("data-fit"));
    text.removeAttribute("textLength");
    text.removeAttribute("lengthAdjust");
    if (!room || typeof text.getComputedTextLength !== "function") return;
    let width = 0;
    try { width = text.getComputedTextLength(); } catch (error) { return; }
    if (width > room) {
      text.setAttribute("textLength", String(room));
      text.setAttribute("lengthAdjust", "spacingAndGlyphs");
    }
  }

  function setField(i, role, text, exact) {
    const key = i + ":" + role;
    if (shownText.get(key) === text + "\u0000" + exact) return;
    shownText.set(key, text + "\u0000" + exact);
    const field = nodeEls[i].querySelector('[data-role="' + role + '"]');
    if (!field) return;
    const label = field.querySelector("text");
    const title = field.querySelector("title");
    if (label) { label.textContent = text; fit(label); }
    if (title) title.textContent = exact;
  }

  function light(el, name) {
    if (!el) return;
    el.classList.add(name);
    lit.push([el, name]);
  }

  // Scroll the drawing (not the page) so that the node a step reached is in view.
  function reveal(el) {
    if (!el || !canvas || typeof el.getBoundingClientRect !== "function") return;
    const view = canvas.getBoundingClientRect();
    const box = el.getBoundingClientRect();
    if (!view.width || !view.height) return; // not displayed (e.g. a hidden notebook output)
    if (box.left < view.left) canvas.scrollLeft += box.left - view.left - 24;
    else if (box.right > view.right) canvas.scrollLeft += box.right - view.right + 24;
    if (box.top < view.top) canvas.scrollTop += box.top - view.top - 24;
    else if (box.bottom > view.bottom) canvas.scrollTop += box.bottom - view.bottom + 24;
  }

  function detailText(i, state) {
    const node = nodes[i];
    if (!state.shown[i]) {
      return node.name + " is not computed yet: the forward pass reaches it at step " + node.computedAt + ".";
    }
    if (!state.seeded) return node.header + "\n  grad: the backward pass has not started yet";
    if (state.complete[i]) return node.final;
    const done = [];
    const waiting = [];
    for (let s = 0; s < n; s++) {
      const step = steps[s];
      if (step.kind === "backward" && step.parent === i) {
        if (s < k) done.push(step.use); else waiting.push(nodes[step.node].name);
      }
    }
    let text = node.header + "\n  grad so far = " + state.grad[i] + ", from " + done.length + " of its " +
      node.uses + " use(s):";
    if (done.length) text += "\n" + done.join("\n");
    return text + "\n  still to come from: " + waiting.join(", ");
  }

  function show(target, tell) {
    const to = Math.max(0, Math.min(n, Math.round(Number(target)) || 0));
    k = to;
    const state = stateAt(k);
    for (const [el, name] of lit) el.classList.remove(name);
    lit = [];
    for (let i = 0; i < nodes.length; i++) {
      const el = nodeEls[i];
      if (!el) continue;
      el.setAttribute("data-grad", state.grad[i]);
      el.setAttribute("data-data", state.shown[i] ? nodes[i].data : "");
      el.classList.toggle("vg-pending", !state.shown[i]);
      el.classList.toggle("vg-complete", state.complete[i]);
      el.classList.toggle("vg-selected", i === selected);
      setField(i, "data", state.shown[i] ? "data " + nodes[i].dataText : "data ?", state.shown[i] ? nodes[i].data : "");
      setField(i, "grad", "grad " + state.gradText[i], state.grad[i]);
      if (opEls[i]) opEls[i].classList.toggle("vg-pending", !state.shown[i]);
    }
    const step = k > 0 ? steps[k - 1] : null;
    if (step && step.kind === "backward") {
      light(nodeEls[step.node], "vg-from");
      light(nodeEls[step.parent], "vg-to");
      light(opEls[step.node], "vg-current");
      light(edgeEls.get(String(step.node)), "vg-current");
      light(edgeEls.get(step.node + ":" + step.slot), "vg-current");
      light(edgeEls.get(String(step.node)), "vg-back");
      light(edgeEls.get(step.node + ":" + step.slot), "vg-back");
    } else if (step && step.kind === "forward") {
      light(nodeEls[step.node], "vg-to");
      if (opEls[step.node]) {
        light(opEls[step.node], "vg-current");
        light(edgeEls.get(String(step.node)), "vg-current");
        for (let j = 0; edgeEls.has(step.node + ":" + j); j++) light(edgeEls.get(step.node + ":" + j), "vg-current");
      }
    } else if (step && step.kind === "seed") {
      light(nodeEls[step.node], "vg-to");
    }
    if (step) reveal(nodeEls[step.kind === "backward" ? step.parent : step.node]);
    counter.textContent = k + " / " + n;
    slider.value = String(k);
    line.textContent = step ? step.line : spec.startLine;
    line.setAttribute("title", step ? step.title : spec.startTitle);
    prevButton.disabled = k === 0;
    nextButton.disabled = k === n;
    root.setAttribute("data-step", String(k));
    if (selected >= 0) details.textContent = detailText(selected, state);
    if (model && tell !== false && model.get("step") !== k) {
      model.set("step", k);
      model.save_changes();
    }
  }

  function stop() {
    if (timer !== null) clearInterval(timer);
    timer = null;
    playButton.textContent = "\u25B6 play";
    root.setAttribute("data-playing", "false");
  }

  function play() {
    if (timer !== null) clearInterval(timer);
    if (k >= n) show(0);
    const perSecond = Number(speedSelect.value) || 2;
    timer = setInterval(() => {
      if (k >= n) { stop(); return; }
      show(k + 1);
      if (k >= n) stop();
    }, 1000 / perSecond);
    playButton.textContent = "\u275A\u275A pause";
    root.setAttribute("data-playing", "true");
  }

  function go(target) { stop(); show(target); }

  function onKey(event) {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    const tag = event.target && event.target.tagName ? event.target.tagName.toUpperCase() : "";
    if (tag === "INPUT" || tag === "SELECT" || tag === "TEXTAREA") return; // the slider moves itself
    const moves = { ArrowRight: k + 1, ArrowLeft: k - 1, Home: 0, End: n };
    if (!(event.key in moves)) return;
    event.preventDefault();
    event.stopPropagation();
    go(moves[event.key]);
  }

  const listeners = [];
  function on(target, type, handler) {
    target.addEventListener(type, handler);
    listeners.push([target, type, handler]);
  }
  on(nextButton, "click", () => go(k + 1));
  on(prevButton, "click", () => go(k - 1));
  on(find('[data-action="reset"]'), "click", () => go(0));
  on(playButton, "click", () => { if (timer === null) play(); else stop(); });
  on(slider, "input", () => go(slider.value));
  on(speedSelect, "change", () => { if (timer !== null) play(); });
  on(globalKeys ? root.ownerDocument : root, "keydown", onKey);
  nodeEls.forEach((el, i) => {
    on(el, "click", () => {
      selected = i;
      show(k, false);
    });
  });
  const fromModel = () => { if (model.get("step") !== k) { stop(); show(model.get("step"), false); } };
  if (model) model.on("change:step", fromModel);
  show(model ? model.get("step") : 0, false);

  return () => {
    stop();
    for (const [target, type, handler] of listeners) target.removeEventListener(type, handler);
    if (model) model.off("change:step", fromModel);
  };
}
