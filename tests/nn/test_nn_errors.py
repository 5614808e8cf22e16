"""Clear errors: what was wrong, the value received and what was expected; and ``atomic_write``.

- Optimizers refuse a state dict of the wrong shape or types (changing nothing), a parameter
  listed twice, and unordered or mistaken parameter collections.
- Models, layers and neurons refuse unordered inputs (``set``, ``dict``); constructors refuse
  bools and floats as widths, and non-bool flags.
- ``nn.files.atomic_write``, which writes every file the project writes: the new file's mode,
  ``mode=`` (model files are 0600), symlinks, and failures that leave the old file and no
  temporary file behind, with a clear error for a missing or unwritable folder.
"""

from __future__ import annotations

import errno
import json
import os
import stat
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import nn.files
from autograd import Value
from nn import MLP, SGD, Adam, AdamW, Layer, Neuron
from nn.files import atomic_write

# --- optimizers ---------------------------------------------------------------------------------


def _params(n: int = 3) -> list[Value]:
    ps = [Value(float(i)) for i in range(n)]
    for p in ps:
        p.grad = 0.5
    return ps


def _stepped(kind: type[Any]) -> Any:
    opt = kind(_params(), lr=0.1, **({"momentum": 0.9} if kind is SGD else {}))
    opt.step()
    return opt


@pytest.mark.parametrize("kind", [SGD, Adam, AdamW])
@pytest.mark.parametrize(
    ("mutate", "error", "message"),
    [
        (lambda s: {"x": 1}, ValueError,
         r"state: missing keys \['type', 'steps', 'hyper', 'state'\]; unknown keys \['x'\] "
         r"\(expected keys: type, steps, hyper, state\)"),
        (lambda s: [s], TypeError, r"load_state_dict\(\) expects the dict \w+.state_dict\(\) returns, got list"),
        (lambda s: {**s, "steps": "3"}, TypeError, r"'steps' must be an int \(the number of steps taken\), got str"),
        (lambda s: {**s, "steps": True}, TypeError, "'steps' must be an int .*got bool True"),
        (lambda s: {**s, "steps": -1}, ValueError, "'steps' must be >= 0, got -1"),
        (lambda s: {**s, "hyper": None}, TypeError, "'hyper' must be a dict, got NoneType"),
        (lambda s: {**s, "hyper": {}}, ValueError, "'hyper': missing keys"),
        (lambda s: {**s, "state": []}, TypeError, "'state' must be a dict of buffers, got list"),
        (lambda s: {**s, "state": {**s["state"], "extra": []}}, ValueError, r"unknown keys \['extra'\]"),
        (lambda s: {**s, "state": {k: v[:2] for k, v in s["state"].items()}}, ValueError,
         r"must be a list of 3 floats \(one per parameter\), got 2"),
        (lambda s: {**s, "state": {k: dict(enumerate(v)) for k, v in s["state"].items()}}, TypeError,
         r"must be a list of 3 floats \(one per parameter\), got dict"),
        (lambda s: {**s, "state": {k: [v[0], "x", v[2]] for k, v in s["state"].items()}}, TypeError,
         "entry 1 must be a number.*got str 'x'"),
        (lambda s: {**s, "state": {k: [v[0], float("nan"), v[2]] for k, v in s["state"].items()}}, ValueError,
         "entry 1 must be finite.*got nan"),
    ],
)
def test_optimizer_load_state_dict_says_what_is_wrong_and_changes_nothing(
    kind: type[Any], mutate: Callable[[dict[str, Any]], Any], error: type[Exception], message: str
) -> None:
    opt = _stepped(kind)
    before = json.dumps(opt.state_dict())
    with pytest.raises(error, match=message):
        opt.load_state_dict(mutate(opt.state_dict()))
    assert json.dumps(opt.state_dict()) == before


def test_adam_buffers_must_be_numbers_and_the_second_moment_non_negative() -> None:
    opt = _stepped(Adam)
    before = json.dumps(opt.state_dict())
    state = opt.state_dict()
    with pytest.raises(TypeError, match="buffer 'exp_avg' entry 0 must be a number, got NoneType None"):
        opt.load_state_dict({**state, "state": {**state["state"], "exp_avg": [None, 0.0, 0.0]}})
    with pytest.raises(ValueError, match=r"buffer 'exp_avg_sq' entry 2 must be finite and >= 0, got -1\.0"):
        opt.load_state_dict({**state, "state": {**state["state"], "exp_avg_sq": [0.0, 0.0, -1.0]}})
    assert json.dumps(opt.state_dict()) == before
    sgd = _stepped(SGD)
    fresh = SGD(_params(), lr=0.1, momentum=0.9)
    fresh.load_state_dict(SGD(_params(), lr=0.1, momentum=0.9).state_dict())  # None: no momentum buffer yet
    fresh.load_state_dict(sgd.state_dict())
    assert fresh.state_dict() == sgd.state_dict()


def test_a_parameter_listed_twice_is_refused_with_its_index() -> None:
    p, q = Value(1.0), Value(2.0)
    with pytest.raises(ValueError, match="parameter 2 is the same Value as parameter 0: it would be updated twice"):
        SGD([p, q, p], lr=0.1)
    with pytest.raises(ValueError, match="parameter 1 is the same Value as parameter 0"):
        Adam([p, p])


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (lambda ps: set(ps), "in a fixed order .*got a set, whose order is not defined"),
        (lambda ps: frozenset(ps), "got a frozenset"),
        (lambda ps: {f"p{i}": p for i, p in enumerate(ps)}, "got a dict, whose order is not defined"),
        (lambda ps: ps[0], r"got a single Value; pass \[value\]"),
        (lambda ps: MLP(2, [1], seed=0), r"got a MLP; pass model.parameters\(\)"),
        (lambda ps: 3, "expects a list of parameters \\(Values\\), got int"),
    ],
)
def test_optimizers_refuse_unordered_or_mistaken_parameter_collections(
    params: Callable[[list[Value]], Any], message: str
) -> None:
    with pytest.raises(TypeError, match=message):
        SGD(params(_params()), lr=0.1)


def test_optimizers_take_any_real_hyper_parameter_but_not_bools() -> None:
    np = pytest.importorskip("numpy")
    opt = SGD(_params(), lr=np.float32(0.5), momentum=np.float64(0.25))
    assert opt.momentum == 0.25
    with pytest.raises(ValueError, match=r"momentum must be a finite number >= 0\.0, got True"):
        SGD(_params(), lr=0.1, momentum=True)


# --- model inputs and constructors ------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "make"),
    [("MLP", lambda: MLP(2, [3, 1], seed=0)), ("Layer", lambda: Layer(2, 3)), ("Neuron", lambda: Neuron(2))],
)
@pytest.mark.parametrize(
    ("x", "kind"), [({0.5, -1.0}, "set"), (frozenset({0.5, -1.0}), "frozenset"), ({0: 0.5, 1: -1.0}, "dict"),
                    ({0.5: "a", -1.0: "b"}.keys(), "dict_keys")],
)
def test_unordered_inputs_are_refused_naming_their_type(who: str, make: Callable[[], Any], x: Any, kind: str) -> None:
    model = make()
    with pytest.raises(TypeError, match=rf"^{who} expects an ordered list of 2 numbers or Values, got a {kind}, "
                                        "whose order is not defined; pass a list$"):
        model(x)
    model([0.5, -1.0])  # a list is fine


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: Neuron(True), "Neuron nin must be a positive integer, got bool True"),
        (lambda: Neuron(2.0),  # type: ignore[arg-type]
         "Neuron nin must be a positive integer, got float 2.0"),
        (lambda: Layer(2, 3.0),  # type: ignore[arg-type]
         "Layer nout must be a positive integer, got float 3.0"),
        (lambda: Layer(False, 3), "Layer nin must be a positive integer, got bool False"),
        (lambda: MLP(2.5, [1]),  # type: ignore[arg-type]
         "MLP nin must be a positive integer, got float 2.5"),
        (lambda: MLP(2, [3, True]), r"MLP layer width nouts\[1\] must be a positive integer, got bool True"),
        (lambda: MLP(2, [3, 1.0]),  # type: ignore[list-item]
         r"MLP layer width nouts\[1\] must be a positive integer, got float 1.0"),
        (lambda: MLP(2, {3, 1}),  # type: ignore[arg-type]
         r"MLP nouts must be a non-empty list of layer widths, got set \{1, 3\}"),
        (lambda: Neuron(2, init="xavier", fan_out=-2), "Neuron fan_out must be a positive integer, got int -2"),
    ],
)
def test_constructors_refuse_bools_and_floats_as_widths(build: Callable[[], Any], message: str) -> None:
    with pytest.raises(ValueError, match=f"^{message}$"):
        build()


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: MLP(2, [1], fused="no"),  # type: ignore[arg-type]
         "MLP fused must be True or False, got str 'no'"),
        (lambda: Neuron(2, fused=None),  # type: ignore[arg-type]
         "Neuron fused must be True or False, got NoneType None"),
        (lambda: Neuron(2, nonlin="linear"),  # type: ignore[arg-type]
         "Neuron nonlin must be True or False, got str 'linear'"),
        (lambda: Neuron(2, rng="seed"), r"Neuron rng must be a random.Random \(or have .uniform\), got str"),
    ],
)
def test_constructors_refuse_flags_that_are_not_bools(build: Callable[[], Any], message: str) -> None:
    with pytest.raises(TypeError, match=f"^{message}$"):
        build()


def test_numpy_integer_widths_are_plain_ints_in_the_config(tmp_path: Path) -> None:
    np = pytest.importorskip("numpy")
    model = MLP(np.int64(2), [np.int32(3), np.int64(1)], seed=0, fused=1)  # type: ignore[arg-type]
    assert model.config["nin"] == 2 and type(model.config["nin"]) is int
    assert all(type(n) is int for n in model.config["nouts"])
    model.save(tmp_path / "m.json")  # JSON-serialisable
    assert nn.load(tmp_path / "m.json").state_dict() == model.state_dict()


# --- atomic_write -------------------------------------------------------------------------------


@pytest.fixture
def umask() -> Iterator[Callable[[int], int]]:
    old = os.umask(0o022)
    os.umask(old)
    yield os.umask
    os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_new_files_get_the_mode_plain_open_would_give_them(tmp_path: Path, umask: Callable[[int], int]) -> None:
    for mask in (0o022, 0o077, 0o002):
        umask(mask)
        atomic_write(tmp_path / "a.txt", "x")
        with open(tmp_path / "b.txt", "w") as f:
            f.write("x")
        assert _mode(tmp_path / "a.txt") == _mode(tmp_path / "b.txt") == 0o666 & ~mask
        (tmp_path / "b.txt").unlink()
        atomic_write(tmp_path / "c.txt", b"x", mode=0o640)
        assert _mode(tmp_path / "c.txt") == 0o640 & ~mask


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_model_files_are_created_owner_only(tmp_path: Path, umask: Callable[[int], int]) -> None:
    umask(0o022)
    path = tmp_path / "model.json"
    (path).write_text("old")
    path.chmod(0o644)
    MLP(2, [1], seed=0).save(path)
    assert _mode(path) == 0o600
    assert nn.load(path).num_parameters() == 3


def test_writing_to_a_symlink_replaces_the_link_and_leaves_its_target(tmp_path: Path) -> None:
    target = tmp_path / "target.txt"
    target.write_text("target")
    link = tmp_path / "link.txt"
    link.symlink_to(target)
    atomic_write(link, "new")
    assert not link.is_symlink() and link.read_text() == "new"
    assert target.read_text() == "target"


def _only(folder: Path, *names: str) -> None:
    assert sorted(p.name for p in folder.iterdir()) == sorted(names), "a temporary file was left behind"


def _fail(exc: BaseException) -> Callable[..., Any]:
    def raising(*args: Any, **kwargs: Any) -> Any:
        raise exc

    return raising


@pytest.mark.parametrize(
    ("function", "exc"),
    [
        ("fsync", OSError(errno.ENOSPC, "No space left on device")),
        ("replace", PermissionError(errno.EACCES, "Permission denied")),
        ("fsync", KeyboardInterrupt()),
    ],
)
def test_a_failing_write_leaves_the_old_file_and_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, function: str, exc: BaseException
) -> None:
    path = tmp_path / "model.json"
    path.write_text("old contents")
    monkeypatch.setattr(os, function, _fail(exc))
    with pytest.raises(type(exc)):
        atomic_write(path, "new contents")
    monkeypatch.undo()
    assert path.read_text() == "old contents"
    _only(tmp_path, "model.json")


def test_a_full_disk_while_saving_a_model_leaves_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "model.json"
    MLP(2, [1], seed=0).save(path)
    old = path.read_bytes()
    monkeypatch.setattr(os, "fsync", _fail(OSError(errno.ENOSPC, "No space left on device")))
    with pytest.raises(OSError, match="No space left on device"):
        MLP(2, [1], seed=1).save(path)
    monkeypatch.undo()
    assert path.read_bytes() == old
    _only(tmp_path, "model.json")


def test_data_that_fails_to_encode_changes_nothing(tmp_path: Path) -> None:
    class Unwritable(str):
        def encode(self, *args: Any, **kwargs: Any) -> bytes:
            raise OSError(errno.ENOSPC, "No space left on device")

    path = tmp_path / "m.csv"
    path.write_text("old")
    with pytest.raises(OSError, match="No space left"):
        atomic_write(path, Unwritable("new"))
    assert path.read_text() == "old"
    _only(tmp_path, "m.csv")
    with pytest.raises(TypeError, match="data must be str or bytes, got list"):
        atomic_write(path, ["new"])  # type: ignore[arg-type]


def test_a_missing_folder_or_a_folder_path_is_a_clear_error(tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such" / "m.json"
    with pytest.raises(FileNotFoundError, match=r"cannot write .*m.json'?: the folder '.*such' does not exist"):
        atomic_write(missing, "x")
    (tmp_path / "file").write_text("a file")
    with pytest.raises(NotADirectoryError, match="is not a folder"):
        atomic_write(tmp_path / "file" / "m.json", "x")
    (tmp_path / "dir").mkdir()
    with pytest.raises(IsADirectoryError, match="it is a folder"):
        atomic_write(tmp_path / "dir", "x")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        MLP(2, [1], seed=0).save(missing)
    _only(tmp_path, "file", "dir")


def test_an_unwritable_folder_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tempfile, "mkstemp", _fail(PermissionError(errno.EACCES, "Permission denied")))
    with pytest.raises(PermissionError, match=r"cannot write .*m.json'?: the folder '.*' is not writable"):
        atomic_write(tmp_path / "m.json", "x")


def test_save_refuses_metadata_that_is_not_json_and_keeps_the_old_file(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    model = MLP(2, [1], seed=0)
    model.save(path, metadata={"ok": True})
    old = path.read_bytes()
    with pytest.raises(TypeError, match=r"metadata must be JSON data .*set is not JSON serializable"):
        model.save(path, metadata={"classes": {"a", "b"}})
    with pytest.raises(ValueError, match="metadata must be JSON data"):
        model.save(path, metadata={"mean": float("nan")})
    with pytest.raises(TypeError, match="metadata must be a dict, got list"):
        model.save(path, metadata=[1])  # type: ignore[arg-type]
    assert path.read_bytes() == old
    _only(tmp_path, "m.json")
