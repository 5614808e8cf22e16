"""The documentation is tested: every code block of README.md and docs/*.md runs, and the site builds.

The convention for code blocks is described for writers in docs/development.md ("How the
documentation is tested"). In short:

* ```` ```python ```` blocks of one page run in order in one shared namespace (like one script),
  inside a temporary working directory that is the page's own, with matplotlib's Agg backend and
  ``breakpoint()`` switched off (``PYTHONBREAKPOINT=0``).
* A ```` ```python ```` (or ```` ```pycon ````) block whose first line starts with ``>>> `` is a
  doctest, checked by :mod:`doctest` (with ``ELLIPSIS``) in that same namespace.
* ```` ```bash ```` blocks run with ``bash -e -o pipefail`` in the same working directory, this
  interpreter's ``bin`` folder first on ``PATH``.
* A ```` ```text ```` (or ```` ```output ````) block separated from the python or bash block before
  it by blank lines only is that block's expected stdout: trailing whitespace and surrounding blank
  lines are ignored and ``...`` matches anything (doctest's ``ELLIPSIS``). A block that prints must
  be followed by its output. Any other ``text`` block is only shown, never run.
* ``<!-- skip-test: reason -->`` on the line before a block skips it (a reason is required; the
  number of skipped blocks is capped by MAX_SKIPPED). A bash block that installs packages must be
  skipped, but every extra that an install command or ``valuegrad[...]`` names must exist in
  pyproject.toml.

Each block is its own test, named by page and line (``docs/engine.md:42``), so a failure says
which block broke. A block run on its own (``-k``) first runs the blocks before it on its page.
"""

from __future__ import annotations

import builtins
import contextlib
import difflib
import doctest
import io
import os
import re
import subprocess
import sys
import traceback
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
PAGES: list[Path] = [REPO / "README.md", *sorted(DOCS.glob("*.md"))]

#: At most this many blocks may carry a skip-test marker, across all pages.
MAX_SKIPPED = 5

PYTHON_LANGS = frozenset({"python", "py", "pycon"})
SHELL_LANGS = frozenset({"bash", "sh", "shell"})
OUTPUT_LANGS = frozenset({"text", "output"})

FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^`]*?)[ \t]*$")
SKIP_MARKER = re.compile(r"^[ \t]*<!--[ \t]*skip-test\b(?P<rest>.*?)-->[ \t]*$")
PIP_INSTALL = re.compile(r"\bpip3?\s+install\b")
EXTRAS = re.compile(r"(?:valuegrad|\.)\[(?P<names>[A-Za-z0-9_,\- ]+)\]")
TIMEOUT_S = 120


@dataclass
class Block:
    """One fenced code block of a page."""

    page: str  # path relative to the repository, e.g. "docs/engine.md"
    line: int  # 1-based line number of the opening fence
    lang: str  # the info string's first word, lower case ('' if none)
    code: str  # the content, with the fence's indentation removed
    skip: str | None = None  # the skip-test reason, if marked
    expected: str | None = None  # expected stdout, from the output block that follows
    output_of: Block | None = None  # for an output block: the block whose output it is

    @property
    def id(self) -> str:
        return f"{self.page}:{self.line}"

    @property
    def kind(self) -> str:
        """'doctest', 'python', 'shell', 'output' (another block's expected stdout), 'shown' or 'unknown'."""
        if self.lang in PYTHON_LANGS:
            first = next((ln.strip() for ln in self.code.splitlines() if ln.strip()), "")
            return "doctest" if first.startswith(">>>") or self.lang == "pycon" else "python"
        if self.lang in SHELL_LANGS:
            return "shell"
        if self.lang in OUTPUT_LANGS:
            return "output" if self.output_of is not None else "shown"
        return "unknown"

    @property
    def runs(self) -> bool:
        return self.kind in ("doctest", "python", "shell")


@dataclass
class Page:
    """A page's blocks and whatever breaks the convention (reported by test_page_follows_the_convention)."""

    path: Path
    blocks: list[Block] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    markers: int = 0


def _relative(path: Path) -> str:
    return path.relative_to(REPO).as_posix()


@cache
def parse(path: Path) -> Page:
    """Split a Markdown page into fenced code blocks, attaching skip markers and expected outputs."""
    page = Page(path)
    name = _relative(path)
    lines = path.read_text(encoding="utf-8").splitlines()
    pending_skip: tuple[int, str] | None = None  # (line, reason) of a marker awaiting its block
    previous: Block | None = None  # the last block, while only blank lines follow it
    i = 0
    while i < len(lines):
        text = lines[i]
        marker = SKIP_MARKER.match(text)
        fence = FENCE.match(text)
        if marker:
            page.markers += 1
            reason = marker.group("rest").strip()
            if not reason.startswith(":") or not reason[1:].strip():
                page.problems.append(f"{name}:{i + 1}: a skip-test marker needs a reason: <!-- skip-test: why -->")
            if pending_skip is not None:
                page.problems.append(f"{name}:{pending_skip[0]}: skip-test marker not followed by a code block")
            pending_skip = (i + 1, reason[1:].strip())
            previous = None
            i += 1
            continue
        if not fence:
            if text.strip():
                previous = None
                if pending_skip is not None:
                    page.problems.append(f"{name}:{pending_skip[0]}: skip-test marker not followed by a code block")
                    pending_skip = None
            i += 1
            continue
        indent, ticks = fence.group("indent"), fence.group("fence")
        info = fence.group("info").strip()
        lang = info.split()[0].lower().lstrip("{.").rstrip("}") if info else ""
        j = i + 1
        while j < len(lines):
            closing = FENCE.match(lines[j])
            if closing and closing.group("fence")[0] == ticks[0] and len(closing.group("fence")) >= len(ticks) \
                    and not closing.group("info").strip():
                break
            j += 1
        if j == len(lines):
            page.problems.append(f"{name}:{i + 1}: code block is never closed")
        body = [ln[len(indent):] if ln.startswith(indent) else ln.lstrip() for ln in lines[i + 1:j]]
        block = Block(name, i + 1, lang, "\n".join(body) + "\n")
        if pending_skip is not None:
            block.skip = pending_skip[1]
            pending_skip = None
        if lang in OUTPUT_LANGS and previous is not None and previous.lang not in OUTPUT_LANGS:
            block.output_of = previous
            if previous.kind == "doctest":
                page.problems.append(f"{block.id}: an output block after a doctest; put the output in the doctest")
            else:
                previous.expected = block.code
        page.blocks.append(block)
        previous = block
        i = j + 1
    if pending_skip is not None:
        page.problems.append(f"{name}:{pending_skip[0]}: skip-test marker not followed by a code block")
    for block in page.blocks:
        if not block.lang:
            page.problems.append(f"{block.id}: a code block needs a language (python, bash or text)")
        elif block.kind == "unknown":
            page.problems.append(f"{block.id}: unknown block language {block.lang!r}; the tests run "
                                 f"{sorted(PYTHON_LANGS | SHELL_LANGS)} and compare {sorted(OUTPUT_LANGS)}")
        if block.kind == "shell" and block.skip is None and PIP_INSTALL.search(block.code):
            page.problems.append(f"{block.id}: a block that installs packages must be marked "
                                 "<!-- skip-test: installs packages -->")
        if block.lang == "pycon" and not block.code.lstrip().startswith(">>> "):
            page.problems.append(f"{block.id}: a pycon block is a doctest and starts with '>>> '")
        if block.kind == "output" and block.skip is not None:
            page.problems.append(f"{block.id}: mark the block whose output this is, not the output")
    return page


def _all_blocks() -> list[Block]:
    return [b for p in PAGES for b in parse(p).blocks]


RUNNABLE = [b for b in _all_blocks() if b.runs or (b.skip is not None and b.kind != "output")]


# --- running the blocks -----------------------------------------------------------------------


@dataclass
class PageRun:
    """The state one page's blocks share: a working directory, a namespace, and what has run."""

    workdir: Path
    namespace: dict[str, Any]
    outcomes: dict[int, str] = field(default_factory=dict)  # line -> passed, failed, wrong output, skipped


_RUNS: dict[str, PageRun] = {}


class BlockError(AssertionError):
    """A block raised or exited non-zero (``completed=False``: the blocks after it are skipped), or it
    ran to its end but printed something other than its documented output (``completed=True``)."""

    def __init__(self, message: str, completed: bool = False) -> None:
        super().__init__(message)
        self.completed = completed


def _page_run(page: str, tmp_path_factory: pytest.TempPathFactory) -> PageRun:
    if page not in _RUNS:
        workdir = tmp_path_factory.mktemp(re.sub(r"\W+", "_", page))
        _RUNS[page] = PageRun(workdir, {"__name__": "__main__", "__builtins__": builtins})
    return _RUNS[page]


def _normalise(text: str) -> str:
    lines = [ln.rstrip() for ln in text.splitlines()]
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines) + "\n" if lines else ""


def check_output(block: Block, actual: str) -> None:
    """Compare a block's stdout with the output block after it (``...`` matches anything)."""
    got = _normalise(actual)
    if block.expected is None:
        if got:
            raise BlockError(f"{block.id} printed output, so follow it with a ```text block showing it:\n{got}",
                              completed=True)
        return
    want = _normalise(block.expected)
    if doctest.OutputChecker().check_output(want, got, doctest.ELLIPSIS):
        return
    diff = "\n".join(difflib.unified_diff(want.splitlines(), got.splitlines(), "documented", "printed", lineterm=""))
    raise BlockError(f"{block.id}: the output differs from the documented output:\n{diff}", completed=True)


def _run_python(block: Block, namespace: dict[str, Any]) -> str:
    # pad so that tracebacks give the page's own line numbers (and show its lines: the path is absolute)
    code = compile("\n" * block.line + block.code, str(REPO / block.page), "exec")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(code, namespace)
    return out.getvalue()


def _run_doctest(block: Block, namespace: dict[str, Any]) -> None:
    test = doctest.DocTestParser().get_doctest(block.code, {}, block.id, block.page, block.line)
    test.globs = namespace  # get_doctest copies the globals; share the page's namespace instead
    report = io.StringIO()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    result = runner.run(test, out=report.write, clear_globs=False)
    if result.failed:
        raise BlockError(f"{block.id}: {result.failed} of {result.attempted} doctest examples failed\n"
                          f"{report.getvalue()}", completed=True)  # doctest goes on after a failing example


def _run_shell(block: Block, workdir: Path) -> str:
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    result = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", block.code], cwd=workdir, env=env,
                            capture_output=True, text=True, timeout=TIMEOUT_S)
    if result.returncode != 0:
        raise BlockError(f"{block.id}: exited with code {result.returncode}\n"
                          f"--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}")
    return result.stdout


def _execute(block: Block, run: PageRun) -> None:
    """Run one block in its page's state; record and re-raise what happened."""
    from autograd import DotNotFoundError

    try:
        if block.kind == "doctest":
            _run_doctest(block, run.namespace)
        elif block.kind == "python":
            check_output(block, _run_python(block, run.namespace))
        else:
            check_output(block, _run_shell(block, run.workdir))
    except DotNotFoundError:
        run.outcomes[block.line] = "skipped"
        pytest.skip(f"{block.id} needs the Graphviz dot program, which is not installed")
    except BlockError as exc:
        run.outcomes[block.line] = "wrong output" if exc.completed else "failed"
        raise
    except Exception as exc:
        run.outcomes[block.line] = "failed"
        tb = exc.__traceback__
        while tb is not None and tb.tb_frame.f_code.co_filename == __file__:  # from the block's own frame on
            tb = tb.tb_next
        trace = "".join(traceback.format_exception(type(exc), exc, tb))
        raise BlockError(f"{block.id} raised {type(exc).__name__}:\n{trace}") from exc
    run.outcomes[block.line] = "passed"


def _attempt(block: Block, run: PageRun) -> str | None:
    """Run a block: None if it passed, else why it failed (outside an except clause, so pytest.fail
    shows no chained traceback). pytest's skip passes through."""
    try:
        _execute(block, run)
    except BlockError as exc:
        return str(exc)
    return None


@pytest.mark.parametrize("block", RUNNABLE, ids=[b.id for b in RUNNABLE])
def test_code_block(block: Block, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    if block.skip is not None:
        pytest.skip(f"{block.id} is marked skip-test: {block.skip}")
    run = _page_run(block.page, tmp_path_factory)
    monkeypatch.chdir(run.workdir)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("PYTHONBREAKPOINT", "0")  # breakpoint() in a documented debugging session is a no-op
    if "matplotlib" in sys.modules:
        sys.modules["matplotlib"].use("Agg")
    earlier = [b for b in parse(REPO / block.page).blocks if b.line < block.line and b.runs and b.skip is None]
    for before in earlier:
        if before.line not in run.outcomes:  # this block was selected on its own: run what it builds on
            try:
                failure = _attempt(before, run)
            except pytest.skip.Exception:
                continue
            if failure is not None and run.outcomes[before.line] == "failed":
                pytest.fail(f"{before.id}, which {block.id} builds on, failed:\n{failure}", pytrace=False)
        elif run.outcomes[before.line] == "failed":
            pytest.skip(f"{before.id}, which this block builds on, failed")
    failure = _attempt(block, run)
    if failure is not None:
        pytest.fail(failure, pytrace=False)


# --- the pages as a whole ---------------------------------------------------------------------


@pytest.mark.parametrize("path", PAGES, ids=[_relative(p) for p in PAGES])
def test_page_follows_the_convention(path: Path) -> None:
    page = parse(path)
    assert not page.problems, "\n".join(page.problems)


def test_few_blocks_are_skipped() -> None:
    skipped = [b for b in _all_blocks() if b.skip is not None]
    assert all(b.skip for b in skipped), "every skip-test marker needs a reason"
    assert len(skipped) <= MAX_SKIPPED, "too many skipped blocks:\n" + "\n".join(f"{b.id}: {b.skip}" for b in skipped)
    assert sum(parse(p).markers for p in PAGES) == len(skipped), "a skip-test marker that marks no block"
    assert len(RUNNABLE) - len(skipped) >= 20, "the pages have far fewer runnable blocks than expected"


def _extras_in_pyproject() -> set[str]:
    text = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    section = re.search(r"^\[project\.optional-dependencies\]\n(?P<body>.*?)(?=^\[)", text, re.MULTILINE | re.DOTALL)
    assert section, "pyproject.toml has no [project.optional-dependencies]"
    return set(re.findall(r"^([A-Za-z0-9_.-]+)\s*=", section.group("body"), re.MULTILINE))


@pytest.mark.parametrize("path", PAGES, ids=[_relative(p) for p in PAGES])
def test_every_extra_named_exists(path: Path) -> None:
    """``pip install -e ".[train,fast]"`` and ``valuegrad[fast]``, in blocks or prose, name real extras."""
    extras = _extras_in_pyproject()
    named: dict[str, int] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        for match in EXTRAS.finditer(line):
            if match.group(0).startswith(".") and not PIP_INSTALL.search(line):
                continue  # '.[...]' counts only in an install command
            for extra in match.group("names").split(","):
                named.setdefault(extra.strip(), number)
    unknown = {extra: number for extra, number in named.items() if extra not in extras}
    assert not unknown, f"{_relative(path)} names extras that pyproject.toml lacks (extra: line): {unknown}"


def test_readme_links_and_pictures_exist() -> None:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    targets = re.findall(r"\]\(([^)\s]+)\)", text)
    local = [t.split("#")[0] for t in targets if not re.match(r"[a-z]+:", t) and not t.startswith("#")]
    assert "docs/decision_boundary.png" in local
    missing = [t for t in local if t and not (REPO / t).exists()]
    assert not missing, f"README.md links to files that do not exist: {missing}"


def test_every_page_is_in_the_nav() -> None:
    config = (REPO / "mkdocs.yml").read_text(encoding="utf-8")
    nav = re.search(r"^nav:\n(?P<body>(?:[ \t]+.*\n)+)", config, re.MULTILINE)
    assert nav, "mkdocs.yml has no nav"
    listed = set(re.findall(r"([\w./-]+\.md)\s*$", nav.group("body"), re.MULTILINE))
    pages = {p.name for p in DOCS.glob("*.md")}
    assert pages == listed, f"pages not in the nav: {pages - listed}; nav entries without a page: {listed - pages}"


def test_the_project_layout_names_existing_paths() -> None:
    """The first column of the layout table in docs/development.md names files and folders that exist."""
    text = (DOCS / "development.md").read_text(encoding="utf-8")
    rows = [ln for ln in text.splitlines() if ln.startswith("| `")]
    paths = [p for row in rows for p in re.findall(r"`([^`]+)`", row.split("|")[1])]
    assert len(paths) >= 15, paths
    missing = [p for p in paths if not (REPO / p).exists()]
    assert not missing, f"docs/development.md lists paths that do not exist: {missing}"


def test_the_project_layout_lists_every_module() -> None:
    """Every module of autograd/ and nn/ has its row in the layout table, so the page that says
    where things are cannot fall behind a new file."""
    text = (DOCS / "development.md").read_text(encoding="utf-8")
    listed = {p for row in text.splitlines() if row.startswith("| `")
              for p in re.findall(r"`([^`]+)`", row.split("|")[1])}
    modules = {str(p.relative_to(REPO)) for package in ("autograd", "nn") for p in (REPO / package).rglob("*.py")}
    assert not modules - listed, f"docs/development.md's layout table misses {sorted(modules - listed)}"


def test_performance_page_cites_the_committed_benchmark_run() -> None:
    """The prose quotes numbers of one run; the table itself is included from benchmarks/results.md."""
    header = (REPO / "benchmarks" / "results.md").read_text(encoding="utf-8").splitlines()[0]
    run = re.search(r"\((?P<run>.*)\)", header)
    assert run, f"unexpected header in benchmarks/results.md: {header!r}"
    performance = (DOCS / "performance.md").read_text(encoding="utf-8")
    assert '--8<-- "benchmarks/results.md' in performance
    assert run.group("run") in performance, (
        f"docs/performance.md discusses another run than benchmarks/results.md ({run.group('run')}): "
        "update the numbers quoted in its prose"
    )
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    summary = readme[readme.index("**[Performance]"):].split("\n\n")[0]
    ratios = re.findall(r"[\d,.]+×", summary)
    assert ratios, "README.md's performance paragraph quotes no speed-ups"
    assert all(r in performance for r in ratios), f"README.md quotes speed-ups that docs/performance.md lacks: {ratios}"


def test_mkdocs_build_is_strict_clean(tmp_path: Path) -> None:
    for module in ("mkdocs", "material", "mkdocstrings", "mkdocstrings_handlers.python"):
        pytest.importorskip(module, reason="the docs tools are in the 'docs' extra: pip install -e '.[docs]'")
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
                            cwd=REPO, env=env, capture_output=True, text=True, timeout=TIMEOUT_S)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "WARNING" not in result.stderr, result.stderr
    built = {p.relative_to(tmp_path / "site").as_posix() for p in (tmp_path / "site").rglob("index.html")}
    assert {"index.html", "api/index.html", "engine/index.html", "performance/index.html"} <= built
    # every notebook is a page of the site, with its stored pictures; the lessons open the "Learn" section
    for notebook in sorted((REPO / "notebooks").glob("*.ipynb")):
        page = (tmp_path / "site" / "notebooks" / notebook.stem / "index.html").read_text(encoding="utf-8")
        assert 'src="data:image/png;base64,' in page, f"{notebook.name}'s page shows no picture"
    config = (REPO / "mkdocs.yml").read_text(encoding="utf-8")
    learn = re.search(r"^nav:\n  - Learn:\n((?:      - .*\n)+)", config, re.MULTILINE)
    assert learn, "the first section of the nav is not Learn"
    entries = re.findall(r"- (?:.*: )?(\S+)$", learn.group(1), re.MULTILINE)
    lessons = sorted(p.name for p in (REPO / "notebooks").glob("0[1-4]_*.ipynb"))
    assert len(lessons) == 4 and entries[:4] == [f"notebooks/{name}" for name in lessons]
