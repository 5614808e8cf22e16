"""The stepper's quiz: ``Stepper(root, quiz=...)`` asks, before each backward step, for the value the
step will produce, checks it against the step's record and keeps a score; ``worksheet()`` is the
same pass as a Markdown table. The pages are clicked through in a real headless Chromium (the
fixtures and helpers of test_stepper_browser.py); the worksheet, the answer ranges and the
argument checks are plain Python.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from autograd import Value
from autograd.backward import Step
from autograd.show.stepper import Stepper
from autograd.show.stepper.states import QUIZ_RTOL, answer_range, quiz_mode
from autograd.show.text import name_of, number
from tests.autograd.show.test_stepper import embedded_spec
from tests.autograd.show.test_stepper_browser import (
    WIDGET_PAGE,
    check_offline_and_quiet,
    click,
    diamond,
    open_page,
    press,
    readme_example,
    seek,
    small_mlp,
)
from tests.browser import logs, wait_for
from tests.graphs import classic

if TYPE_CHECKING:
    from selenium.webdriver.chrome.webdriver import WebDriver


READ_QUIZ = """
const scope = arguments[0] ? document.querySelector(arguments[0]) : document;
const root = scope.querySelector('[data-valuegrad-stepper]');
const grad = root.querySelector('input[data-quiz="grad"]');
const local = root.querySelector('input[data-quiz="local"]');
return {
  step: root.getAttribute('data-step'),
  next: root.querySelector('[data-action="next"]').disabled,
  check: root.querySelector('[data-action="check"]').disabled,
  reveal: root.querySelector('[data-action="show-answer"]').disabled,
  question: root.querySelector('[data-field="question"]').textContent,
  verdict: root.querySelector('[data-field="verdict"]').textContent,
  score: root.querySelector('[data-field="score"]').textContent,
  grad: grad.value,
  gradDisabled: grad.disabled,
  local: local ? local.value : null,
};
"""


def quiz_state(browser: WebDriver, scope: str = "") -> dict[str, Any]:
    state: dict[str, Any] = browser.execute_script(READ_QUIZ, scope)
    return state


def answer(browser: WebDriver, grad: str, local: str | None = None, scope: str = "") -> None:
    """Type into the answer box(es) and press check."""
    from selenium.webdriver.common.by import By

    where = scope + " " if scope else ""
    boxes = [("grad", grad)] + ([("local", local)] if local is not None else [])
    for kind, text in boxes:
        box = browser.find_element(By.CSS_SELECTOR, f'{where}input[data-quiz="{kind}"]')
        box.clear()
        box.send_keys(text)
    browser.find_element(By.CSS_SELECTOR, f'{where}[data-action="check"]').click()


def typed(x: float) -> str:
    """How a learner might write a recorded value: six significant digits (within the tolerance)."""
    return f"{x:.6g}"


def backward_records(stepper: Stepper) -> dict[int, Step]:
    """The step number k (as the viewer counts) of every backward step, and its record."""
    first = len(stepper) - len(stepper.steps) + 1
    return {first + i: r for i, r in enumerate(stepper.steps)}


# --- in the browser ----------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(("name", "quiz"), [("readme", True), ("diamond", "both"), ("mlp", "grad")])
def test_answering_every_step_right_scores_n_of_n(browser: WebDriver, tmp_path: Path, name: str,
                                                  quiz: bool | str) -> None:
    root = {"readme": readme_example, "diamond": diamond, "mlp": small_mlp}[name]()
    stepper = Stepper(root, quiz=quiz)
    path = stepper.save_html(tmp_path / f"{name}.html")
    n = len(stepper)
    open_page(browser, path)
    assert quiz_state(browser)["score"] == "0 / 0"
    for k, record in enumerate(stepper.steps):
        state = quiz_state(browser)
        assert state["step"] == str(k) and state["next"], f"next is enabled before step {k + 1} is answered"
        assert state["question"].startswith(f"step {k + 1}: ") and state["verdict"] == ""
        answer(browser, typed(record.parent_grad), typed(record.local_grad) if quiz == "both" else None)
        state = quiz_state(browser)
        assert state["verdict"] == f"right: {stepper.line(k + 1)}"
        assert state["score"] == f"{k + 1} / {k + 1}"
        assert not state["next"] and state["check"] and state["gradDisabled"]
        click(browser, "next")
    state = quiz_state(browser)
    assert state["step"] == str(n) and state["next"]
    assert state["score"] == f"{n} / {n}" and n == len(stepper.steps) >= 5
    assert state["question"] == f"the backward pass is complete: {n} of {n} right"
    check_offline_and_quiet(browser, path)


@pytest.mark.slow
def test_a_wrong_answer_says_wrong_shows_the_value_and_keeps_next_disabled(browser: WebDriver, tmp_path: Path) -> None:
    root = readme_example()
    stepper = Stepper(root, quiz=True)
    path = stepper.save_html(tmp_path / "wrong.html")
    open_page(browser, path)
    for record in stepper.steps[:2]:
        answer(browser, typed(record.parent_grad))
        click(browser, "next")
    b = stepper.steps[2]  # b.grad += -6 x 1: b's new grad is the integer -6, so typed exactly
    assert b.parent.label == "b" and b.parent_grad == -6.0
    answer(browser, "-6.001")
    state = quiz_state(browser)
    wrong = "wrong: b.grad after this step is -6 (exactly -6.0), not -6.001. The step: "
    assert state["verdict"] == wrong + stepper.line(3)
    assert state["score"] == "2 / 3" and state["next"] and not state["check"]
    answer(browser, "-6")  # a second try goes on, but the first one is what the score counts
    state = quiz_state(browser)
    assert state["verdict"].startswith("right") and stepper.line(3) in state["verdict"]
    assert state["score"] == "2 / 3" and not state["next"]
    click(browser, "next")
    answer(browser, "abc")  # not a number: neither asked nor scored
    state = quiz_state(browser)
    assert state["verdict"].startswith("type a number") and state["score"] == "2 / 3" and state["next"]
    answer(browser, "\u22123")  # a typographic minus is a minus
    assert quiz_state(browser)["verdict"].startswith("right: a.grad += ")
    check_offline_and_quiet(browser, path)


@pytest.mark.slow
def test_tolerance_is_relative_for_fractions_and_both_boxes_must_be_right(browser: WebDriver, tmp_path: Path) -> None:
    root = diamond()
    stepper = Stepper(root, quiz="both")
    path = stepper.save_html(tmp_path / "both.html")
    tanh = next(k for k, r in backward_records(stepper).items() if r.node.op == "tanh")
    record = stepper.steps[tanh - 1]
    assert not record.local_grad.is_integer() and not record.parent_grad.is_integer()
    open_page(browser, path)
    for _ in range(tanh - 1):
        click(browser, "show-answer")
        click(browser, "next")
    assert quiz_state(browser)["step"] == str(tanh - 1)
    # 2e-3 off the local gradient: wrong, though the new grad is right; the page names which box
    answer(browser, typed(record.parent_grad), repr(record.local_grad * (1 + 2 * QUIZ_RTOL)))
    state = quiz_state(browser)
    assert state["verdict"].startswith(f"wrong: the local gradient is {number(record.local_grad)} "
                                       f"(exactly {record.local_grad!r}), not ")
    assert "y.grad is right" in state["verdict"] and state["next"]
    # 5e-4 off both: right
    answer(browser, repr(record.parent_grad * (1 - QUIZ_RTOL / 2)), repr(record.local_grad * (1 + QUIZ_RTOL / 2)))
    assert quiz_state(browser)["verdict"].startswith("right")
    check_offline_and_quiet(browser, path)


@pytest.mark.slow
def test_infinities_and_nans_are_answered_as_words(browser: WebDriver, tmp_path: Path) -> None:
    x = Value(0.0, label="x")
    y = x.log() * 0.0 + x.sqrt()  # -inf * 0 = nan; sqrt'(0) = inf
    y.label = "y"
    stepper = Stepper(y, quiz=True, layout="python")
    values = [repr(r.parent_grad) for r in stepper.steps]
    assert {"inf", "nan"} <= set(values)
    path = stepper.save_html(tmp_path / "nan.html")
    open_page(browser, path)
    for k, value in enumerate(values):
        if value in ("inf", "nan"):
            answer(browser, "0")  # a finite number is wrong for them, and the right one is named
            assert quiz_state(browser)["verdict"].startswith(f"wrong: x.grad after this step is {value} ")
            answer(browser, {"inf": "Infinity", "nan": "NaN"}[value])
        else:
            answer(browser, value)
        assert quiz_state(browser)["verdict"].startswith("right"), k
        click(browser, "next")
    check_offline_and_quiet(browser, path)


@pytest.mark.slow
def test_show_answer_enables_next_and_nothing_else_skips_a_question(browser: WebDriver, tmp_path: Path) -> None:
    from selenium.webdriver.common.keys import Keys

    root = readme_example()
    stepper = Stepper(root, quiz=True, forward=True)
    path = stepper.save_html(tmp_path / "forward.html")
    first = min(backward_records(stepper))  # the forward walk and the seed ask nothing
    open_page(browser, path)
    for k in range(first - 1):
        state = quiz_state(browser)
        assert not state["next"] and state["check"]
        assert state["question"] == f"step {k + 1} asks nothing: go on with next"
        click(browser, "next")
    assert quiz_state(browser)["step"] == str(first - 1) and quiz_state(browser)["next"]
    # the keyboard, the slider and play stop at the unanswered question too
    press(browser, Keys.ARROW_RIGHT)
    press(browser, Keys.END)
    seek(browser, len(stepper))
    assert quiz_state(browser)["step"] == str(first - 1)
    seek(browser, 0)
    click(browser, "play")
    wait_for(browser, lambda: browser.execute_script(
        "return document.querySelector('[data-valuegrad-stepper]').getAttribute('data-playing')") == "false", 30)
    assert quiz_state(browser)["step"] == str(first - 1)
    click(browser, "show-answer")
    state = quiz_state(browser)
    record = stepper.steps[0]
    assert state["verdict"] == f"the answer: {record.parent.label or '[*]'}.grad = 1. The step: {stepper.line(first)}"
    assert state["grad"] == repr(record.parent_grad) and state["gradDisabled"]
    assert state["score"] == "0 / 1" and not state["next"]
    click(browser, "next")
    assert quiz_state(browser)["step"] == str(first) and quiz_state(browser)["next"]
    answer(browser, typed(stepper.steps[1].parent_grad))
    click(browser, "next")
    # back and forth over answered questions asks nothing again; the verdicts are kept
    click(browser, "reset")
    assert quiz_state(browser)["step"] == "0"
    press(browser, Keys.END)
    state = quiz_state(browser)
    assert state["step"] == str(first + 1) and state["next"] and state["score"] == "1 / 2"
    click(browser, "prev")
    assert quiz_state(browser)["verdict"] == f"right: {stepper.line(first + 1)}"
    check_offline_and_quiet(browser, path)


@pytest.mark.slow
def test_the_widget_asks_the_same_questions(browser: WebDriver, tmp_path: Path) -> None:
    pytest.importorskip("anywidget")
    stepper = Stepper(classic(), quiz="both")
    widget = stepper.widget()
    page = tmp_path / "widget.html"
    page.write_text(WIDGET_PAGE % {"css": widget._css, "spec": json.dumps(widget.spec), "esm": json.dumps(widget._esm)},
                    encoding="utf-8")
    logs(browser, "browser")
    browser.get(page.as_uri())
    wait_for(browser, lambda: browser.execute_script("return window.vgTest && window.vgTest.ready === true"))
    assert quiz_state(browser, "#host")["next"]
    record = stepper.steps[0]
    answer(browser, typed(record.parent_grad), typed(record.local_grad), scope="#host")
    assert quiz_state(browser, "#host")["verdict"] == f"right: {stepper.line(1)}"
    click(browser, "next")
    assert browser.execute_script("return window.vgTest.values.step") == 1
    browser.execute_script("window.vgTest.push(4)")  # Python moving the widget goes where it is told
    state = quiz_state(browser, "#host")
    assert state["step"] == "4" and state["next"] and state["score"] == "1 / 1"
    errors = [entry for entry in logs(browser, "browser") if entry["level"] == "SEVERE"]
    assert not errors, errors


# --- in Python ---------------------------------------------------------------------------------


def _rows(sheet: str) -> list[list[str]]:
    lines = sheet.splitlines()
    start = lines.index("| step | node | parent | local gradient | upstream | product | running grad |")
    assert lines[start + 1] == "|---:|---|---|---:|---:|---:|---:|"
    return [[cell.strip() for cell in re.split(r"(?<!\\)\|", line)[1:-1]] for line in lines[start + 2:]]


@pytest.mark.parametrize("forward", [False, True])
@pytest.mark.parametrize("make", [readme_example, classic, diamond, small_mlp])
def test_worksheet_numbers_are_the_step_records(make: Any, forward: bool) -> None:
    root = make()
    stepper = Stepper(root, forward=forward)
    records = backward_records(stepper)
    filled, blank = _rows(stepper.worksheet(answers=True)), _rows(stepper.worksheet())
    assert len(filled) == len(blank) == len(stepper.steps)
    for row, empty, (k, r) in zip(filled, blank, records.items()):
        assert row[0] == empty[0] == str(k)
        assert row[1] == empty[1] and row[1].startswith(f"{name_of(r.node)} = ")
        assert row[1].endswith(f" = {r.node.data:.6g}")
        assert row[2] == empty[2] == f"{name_of(r.parent)} = {r.parent.data:.6g}"
        numbers = (r.local_grad, r.upstream, r.contribution, r.parent_grad)
        assert row[3:] == [f"{x:.6g}" for x in numbers]
        assert all(math.isclose(float(cell), x, rel_tol=1e-5) for cell, x in zip(row[3:], numbers))
        assert empty[3:] == ["", "", "", ""]


def test_worksheet_of_the_readme_example() -> None:
    sheet = Stepper(readme_example()).worksheet(answers=True)
    assert sheet.splitlines()[0].startswith("Backward pass of e, seeded with e.grad = 1.")
    assert _rows(sheet) == [
        ["1", "e = [*] + [**2] = 3", "[*] = -6", "1", "1", "1", "1"],
        ["2", "e = [*] + [**2] = 3", "[**2] = 9", "1", "1", "1", "1"],
        ["3", "[**2] = b **2 = 9", "b = -3", "-6", "1", "-6", "-6"],
        ["4", "[*] = a * b = -6", "a = 2", "-3", "1", "-3", "-3"],
        ["5", "[*] = a * b = -6", "b = -3", "2", "1", "2", "-4"],
    ]
    assert Stepper(readme_example(), grad=2.5).worksheet().splitlines()[0].startswith(
        "Backward pass of e, seeded with e.grad = 2.5.")


def test_worksheet_escapes_a_bar_in_a_label() -> None:
    x = Value(1.0, label="x|y")
    y = x * 3.0
    y.label = "out"
    rows = _rows(Stepper(y).worksheet(answers=True))
    assert rows == [["1", "out = x\\|y * 3 = 3", "x\\|y = 1", "3", "1", "3", "3"]]


@pytest.mark.parametrize("bad", [1, 0, "yes", "Grad", "local", None, 2.0, ["grad"]])
def test_a_bad_quiz_is_refused_naming_the_allowed_ones(bad: object) -> None:
    with pytest.raises(ValueError, match=r"quiz must be one of False, True, 'grad' or 'both', got "):
        Stepper(readme_example(), quiz=bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="quiz must be one of"):
        readme_example().stepper(quiz=bad)


def test_worksheet_answers_must_be_a_bool() -> None:
    with pytest.raises(TypeError, match="worksheet\\(\\) answers must be True or False, got int"):
        Stepper(readme_example()).worksheet(1)  # type: ignore[arg-type]


def test_quiz_modes() -> None:
    assert [quiz_mode(q) for q in (False, True, "grad", "both")] == [None, "grad", "grad", "both"]
    assert [Stepper(readme_example(), quiz=q).quiz for q in (False, True, "both")] == [None, "grad", "both"]
    assert repr(Stepper(readme_example(), quiz="both")).endswith("5 steps, quiz='both'>")


def test_answer_ranges_are_exact_for_integers_and_relative_otherwise() -> None:
    assert answer_range(-6.0) == (-6.0, -6.0) and answer_range(0.0) == (0.0, 0.0)
    assert answer_range(1e20) == (1e20, 1e20)
    low, high = answer_range(0.25)
    assert math.isclose(low, 0.25 * (1 - 1e-3)) and math.isclose(high, 0.25 * (1 + 1e-3))
    low, high = answer_range(-2.5)
    assert math.isclose(low, -2.5 * (1 + 1e-3)) and math.isclose(high, -2.5 * (1 - 1e-3))
    assert answer_range(math.inf) == (math.inf, math.inf)
    assert all(math.isnan(x) for x in answer_range(math.nan))


def test_the_page_carries_each_answer_range_and_no_quiz_means_no_panel() -> None:
    stepper = Stepper(diamond(), quiz="both")
    html = stepper.to_html()
    spec = embedded_spec(html)
    assert spec["quiz"] == "both"
    for step, record in zip(spec["steps"], stepper.steps):
        assert step["quiz"]["grad"] == [repr(x) for x in answer_range(record.parent_grad)]
        assert step["quiz"]["local"] == [repr(x) for x in answer_range(record.local_grad)]
        assert step["quiz"]["localValue"] == repr(record.local_grad)
    local, grad = re.compile(r'<input [^>]*data-quiz="local"'), re.compile(r'<input [^>]*data-quiz="grad"')
    assert local.search(html) and grad.search(html) and '<button type="button" data-action="check"' in html
    one = Stepper(diamond(), quiz=True).to_html()
    assert grad.search(one) and not local.search(one)
    plain = Stepper(diamond()).to_html()
    assert embedded_spec(plain)["quiz"] is None and not grad.search(plain) and '<div class="vg-quiz"' not in plain
    forward = embedded_spec(Stepper(diamond(), quiz=True, forward=True).to_html())
    assert [("quiz" in s) for s in forward["steps"]] == [s["kind"] == "backward" for s in forward["steps"]]
