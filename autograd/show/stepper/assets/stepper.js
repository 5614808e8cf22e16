// valuegrad's backprop stepper: what the viewer does in the browser.
//
// The same function runs in the Jupyter widget (anywidget) and in the page Stepper.save_html()
// writes; only the few lines that start it differ (see autograd/stepper.py). Python computes
// everything numeric: the markup, the layout, and every number as text (repr for the exact value,
// display.number for reading), so this file never does floating-point arithmetic or formatting.
// The quiz only compares a typed number with the bounds Python wrote for each answer.
//
// spec = {
//   n, forward, root,                        number of steps, forward pass first?, root's index
//   quiz,                                    null, "grad" or "both"
//   nodes: [{name, data, dataText, uses, header, final, computedAt}],
//   grad0: [repr], gradText0: [text],        every node's grad before the first step
//   steps: [{kind, node, parent, slot, grad, gradText, line, title, use,
//            quiz: {question, grad: [low, high], local: [low, high], localText, localValue, parentName}}],
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
  // The quiz: a question before each backward step; `next` goes past it once it is answered right
  // or its answer is shown. answers[s] is the question asked before step s + 1.
  const quiz = spec.quiz ? {
    question: find('[data-field="question"]'),
    local: find('input[data-quiz="local"]'),
    grad: find('input[data-quiz="grad"]'),
    check: find('[data-action="check"]'),
    reveal: find('[data-action="show-answer"]'),
    verdict: find('[data-field="verdict"]'),
    score: find('[data-field="score"]'),
  } : null;
  const answers = steps.map(() => null);
  let right = 0;
  let asked = 0;
  let reach = 0; // the furthest step shown: going back and forth up to it asks nothing again
  let quizShown = -1;

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

  // --- the quiz -------------------------------------------------------------------------------
  // The page spells no JavaScript infinity or not-a-number literal (the numbers it carries are
  // Python's repr text), so these are made from words and tested by x !== x.
  const INF = Number.POSITIVE_INFINITY;
  const NOT_A_NUMBER = Number("nan");
  const isNotANumber = (x) => x !== x;

  // A number as Python's repr writes it ("-6.0", "inf", "nan").
  function fromRepr(text) {
    if (text === "inf") return INF;
    if (text === "-inf") return -INF;
    if (text === "nan") return NOT_A_NUMBER;
    return Number(text);
  }

  // What the learner typed, as a number; null if it is not one ("1/3" is not: no arithmetic here).
  function parseTyped(text) {
    const t = String(text).trim().replace(/\u2212/g, "-").replace(/[\s_]/g, "");
    if (/^[+-]?(inf|infinity|\u221E)$/i.test(t)) return t[0] === "-" ? -INF : INF;
    if (/^[+-]?nan$/i.test(t)) return NOT_A_NUMBER;
    if (/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(t)) return Number(t);
    return null;
  }

  function accepts(range, typed) {
    const low = fromRepr(range[0]);
    if (isNotANumber(low)) return isNotANumber(typed);
    return typed >= low && typed <= fromRepr(range[1]);
  }

  function questionAt(s) { return quiz && s < n && steps[s].quiz ? steps[s].quiz : null; }

  // The furthest step the learner may go to now: up to the first unanswered question past `reach`.
  function limit() {
    if (!quiz) return n;
    let s = reach;
    while (s < n && !(questionAt(s) && !(answers[s] && answers[s].open))) s++;
    return s;
  }

  function renderQuiz() {
    if (!quiz) return;
    const q = questionAt(k);
    const answer = q ? answers[k] : null;
    const done = !q || (answer !== null && answer.open);
    if (q) quiz.question.textContent = q.question;
    else if (k >= n) quiz.question.textContent = "the backward pass is complete: " + right + " of " + asked + " right";
    else quiz.question.textContent = "step " + (k + 1) + " asks nothing: go on with next";
    for (const [input, key] of [[quiz.local, "local"], [quiz.grad, "grad"]]) {
      if (!input) continue;
      input.disabled = done;
      if (quizShown !== k) input.value = answer ? answer.typed[key] : "";
    }
    quiz.check.disabled = done;
    quiz.reveal.disabled = done;
    if (quizShown !== k) quiz.verdict.textContent = answer ? answer.verdict : "";
    quiz.score.textContent = right + " / " + asked;
    quizShown = k;
    nextButton.disabled = k >= limit();
  }

  // The answer of the question before step k + 1: it is asked (counted) the first time it is checked
  // or shown, and scored right only if that first check was right.
  function answerFor(first) {
    if (answers[k] === null) {
      answers[k] = { open: false, verdict: "", typed: { local: "", grad: "" }, first };
      asked += 1;
      if (first) right += 1;
    }
    return answers[k];
  }

  function check() {
    const q = questionAt(k);
    if (!q || (answers[k] && answers[k].open)) return;
    const step = steps[k];
    const typed = { local: quiz.local ? quiz.local.value : "", grad: quiz.grad.value };
    const grad = parseTyped(typed.grad);
    const local = quiz.local ? parseTyped(typed.local) : 0;
    if (grad === null || local === null) {
      quiz.verdict.textContent = "type a number (like -6, 0.25, 1.5e-3, inf or nan) in " +
        (quiz.local ? "both boxes" : "the box");
      return;
    }
    const gradRight = accepts(q.grad, grad);
    const localRight = !quiz.local || accepts(q.local, local);
    const ok = gradRight && localRight;
    const answer = answerFor(ok);
    answer.typed = typed;
    if (ok) {
      answer.open = true;
      answer.verdict = (answer.first ? "right: " : "right, this time (the first try is what counts): ") + step.line;
    } else {
      const parts = [];
      if (quiz.local) {
        parts.push(localRight ? "the local gradient is right" :
          "the local gradient is " + q.localText + " (exactly " + q.localValue + "), not " + typed.local.trim());
      }
      parts.push(gradRight ? q.parentName + ".grad is right" :
        q.parentName + ".grad after this step is " + step.gradText + " (exactly " + step.grad + "), not " +
        typed.grad.trim());
      answer.verdict = "wrong: " + parts.join("; ") + ". The step: " + step.line;
    }
    quiz.verdict.textContent = answer.verdict;
    renderQuiz();
  }

  function showAnswer() {
    const q = questionAt(k);
    if (!q || (answers[k] && answers[k].open)) return;
    const step = steps[k];
    const answer = answerFor(false);
    answer.open = true;
    answer.typed = { local: q.localValue, grad: step.grad };
    answer.verdict = "the answer: " + (quiz.local ? "local gradient " + q.localText + ", " : "") +
      q.parentName + ".grad = " + step.gradText + ". The step: " + step.line;
    quizShown = -1; // show the answer in the boxes
    renderQuiz();
  }

  function show(target, tell) {
    const to = Math.max(0, Math.min(n, Math.round(Number(target)) || 0));
    k = to;
    reach = Math.max(reach, k);
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
    renderQuiz();
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
      if (k >= limit()) { stop(); return; }
      show(k + 1);
      if (k >= limit()) stop();
    }, 1000 / perSecond);
    playButton.textContent = "\u275A\u275A pause";
    root.setAttribute("data-playing", "true");
  }

  // Where the learner moves: with a quiz, no further than the first question not answered yet.
  function go(target) { stop(); show(Math.min(Number(target), limit())); }

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
  if (quiz) {
    on(quiz.check, "click", check);
    on(quiz.reveal, "click", showAnswer);
    for (const input of [quiz.local, quiz.grad]) {
      if (input) on(input, "keydown", (event) => { if (event.key === "Enter") { event.preventDefault(); check(); } });
    }
  }
  nodeEls.forEach((el, i) => {
    on(el, "click", () => {
      selected = i;
      show(k, false);
    });
  });
  // Python moving the widget is not the learner skipping a question: it goes where it is told.
  const fromModel = () => { if (model.get("step") !== k) { stop(); show(model.get("step"), false); } };
  if (model) model.on("change:step", fromModel);
  show(model ? model.get("step") : 0, false);

  return () => {
    stop();
    for (const [target, type, handler] of listeners) target.removeEventListener(type, handler);
    if (model) model.off("change:step", fromModel);
  };
}
