"""Loading is linear, bounded and true to what ``save`` wrote, whatever a model file holds.

The specification, in the order the tests check it:

- ``load_state_dict`` and ``nn.load`` take time linear in the number of parameters; a
  100,000-parameter model round-trips as part of the suite.
- A file's architecture is checked against the number of stored weights, and against
  ``MAX_PARAMETERS``, before anything is built; files larger than ``MAX_FILE_BYTES`` are not read.
- Hostile JSON (huge numbers, deep nesting, other encodings, wrong types, missing or unknown
  fields) is one ``ValueError`` naming the file; a module given to ``load_state_dict`` or
  ``load(into=)`` is unchanged after a refusal (checked by fuzzing).
- ``save`` either writes a file that ``load`` rebuilds exactly (tied weights included) or
  refuses with the reason (an extra Value attribute, an edited ``.layers``).
- ``load`` leaves the global ``random`` state alone.
- ``load_state_dict`` takes every real number ``Value()`` takes, except bools and non-finite ones.
"""

from __future__ import annotations

import json
import math
import os
import random
import subprocess
import sys
from collections.abc import Callable, Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import nn
import nn.io
from autograd import Value
from nn import MLP, Layer, Module
from nn.io import load_metadata
from tests.strategies import NO_DEADLINE


def _model() -> MLP:
    return MLP(2, [4, 3], activation="tanh", seed=5)


def _saved(tmp_path: Path, model: Module | None = None, **kwargs: Any) -> tuple[Path, dict[str, Any]]:
    path = tmp_path / "model.json"
    (model or _model()).save(path, **kwargs)
    doc: dict[str, Any] = json.loads(path.read_text())
    return path, doc


def _write(path: Path, content: object) -> Path:
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content if isinstance(content, str) else json.dumps(content))
    return path


def _refused(path: Path, pattern: str, into: Module | None = None) -> str:
    """``nn.load`` refuses ``path`` with one ValueError whose message names the file and matches."""
    with pytest.raises(ValueError, match=pattern) as info:
        nn.load(path, into=into)
    assert type(info.value) is ValueError
    assert str(path) in str(info.value)
    return str(info.value)


# --- linear time ------------------------------------------------------------------------------


class _CountedList(list):  # type: ignore[type-arg]
    """A list that counts how often it is iterated over."""

    iterations = 0

    def __iter__(self) -> Iterator[Any]:
        _CountedList.iterations += 1
        return super().__iter__()


class _Wide(Module):
    def __init__(self, n: int) -> None:
        self.w = [Value(float(i)) for i in range(n)]

    def named_parameters(self, remove_duplicate: bool = True) -> list[tuple[str, Value]]:
        return _CountedList(super().named_parameters(remove_duplicate))


def test_load_state_dict_walks_the_parameters_a_constant_number_of_times() -> None:
    wide = _Wide(2000)
    state = {f"w.{i}": -float(i) for i in range(2000)}
    _CountedList.iterations = 0
    wide.load_state_dict(state)
    assert [p.data for p in wide.w] == [-float(i) for i in range(2000)]
    assert _CountedList.iterations <= 4  # not once per key: that made 25k parameters take 37 s


def test_a_100k_parameter_model_round_trips(tmp_path: Path) -> None:
    model = MLP(784, [128, 10], seed=0)
    assert model.num_parameters() == 101_770
    path = tmp_path / "big.json"
    model.save(path)
    loaded = nn.load(path)
    assert loaded.state_dict() == model.state_dict()
    assert isinstance(loaded, MLP) and loaded.config == model.config


# --- bounded: nothing is built or read beyond the limits --------------------------------------


@pytest.fixture
def nothing_is_built(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test, quickly, if more than a few neurons are built (instead of running out of memory)."""
    real = nn.layers.Neuron.__init__
    built = [0]

    def counted(self: nn.layers.Neuron, *args: Any, **kwargs: Any) -> None:
        built[0] += 1
        if built[0] > 100:
            raise RuntimeError("load built a model before checking its size against the file")
        real(self, *args, **kwargs)

    monkeypatch.setattr(nn.layers.Neuron, "__init__", counted)


@pytest.mark.usefixtures("nothing_is_built")
@pytest.mark.parametrize(
    ("nouts", "message"),
    [
        ([100_000_000, 1], r"has 400000001 parameters, more than a model file may hold \(10000000\)"),
        ([200_000, 3], r"has 1200003 parameters but the file stores 27 weights"),
    ],
)
def test_an_architecture_larger_than_the_file_is_refused_before_building(
    tmp_path: Path, nouts: list[int], message: str
) -> None:
    path, doc = _saved(tmp_path)
    doc["architecture"]["nouts"] = nouts
    _write(path, doc)
    assert path.stat().st_size < 2000
    _refused(path, message)


def test_the_parameter_limit_is_checked_by_load_and_save(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert nn.io.MAX_PARAMETERS == 10_000_000  # the documented limit
    path, _ = _saved(tmp_path)
    old = path.read_bytes()
    monkeypatch.setattr(nn.io, "MAX_PARAMETERS", 20)  # the one limit, read by the reader and the writer
    _refused(path, r"has 27 parameters, more than a model file may hold \(20\)")
    with pytest.raises(ValueError, match=r"27 parameters is more than a model file may hold \(20\)"):
        _model().save(path)
    assert path.read_bytes() == old


def test_a_file_larger_than_the_limit_is_not_read_nor_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert nn.io.MAX_FILE_BYTES == 1 << 30  # the documented limit
    path, _ = _saved(tmp_path)
    old = path.read_bytes()
    size = len(old)
    monkeypatch.setattr(nn.io, "MAX_FILE_BYTES", size - 1)  # the one limit, read by the reader and the writer
    _refused(path, rf"the file is {size} bytes, larger than a model file may be \({size - 1} bytes\)")
    with pytest.raises(ValueError, match="larger than a model file may be"):
        load_metadata(path)
    with pytest.raises(ValueError, match=rf"refusing to save: the file would be {size} bytes, more than a model "
                                         rf"file may be \({size - 1}\)"):
        _model().save(path)
    assert path.read_bytes() == old


def test_a_huge_sparse_file_is_refused_without_reading_it(tmp_path: Path) -> None:
    path = tmp_path / "huge.json"
    with open(path, "wb") as f:
        f.truncate(nn.io.MAX_FILE_BYTES + 1)  # sparse: takes no disk space and no time
    _refused(path, "larger than a model file may be")


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_an_endless_stream_is_read_only_up_to_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(nn.io, "MAX_FILE_BYTES", 4096)
    with pytest.raises(ValueError, match=r"/dev/zero: the file is larger than a model file may be \(4096 bytes\)"):
        nn.load("/dev/zero")


# --- hostile JSON: one ValueError naming the file ---------------------------------------------


def _first_weight(doc: dict[str, Any]) -> str:
    return str(next(iter(doc["state_dict"])))


def _replace_first_weight(doc: dict[str, Any], literal: str) -> str:
    key = _first_weight(doc)
    text = json.dumps(doc)
    old = f'"{key}": {json.dumps(doc["state_dict"][key])}'
    assert old in text
    return text.replace(old, f'"{key}": {literal}')


HOSTILE: list[tuple[str, Callable[[dict[str, Any]], object], str]] = [
    ("400-digit integer weight", lambda d: _replace_first_weight(d, "1" + "0" * 400),
     r"'layers.0.neurons.0.w.0' is <an integer of 401 digits>; weights must be finite"),
    ("5,000-digit integer", lambda d: _replace_first_weight(d, "-" + "9" * 5000),
     "holds an integer of 5000 digits"),
    ("5,000-digit float", lambda d: _replace_first_weight(d, "1" + "0" * 5000 + ".0"),
     "'layers.0.neurons.0.w.0' is inf; weights must be finite"),
    ("1e999", lambda d: _replace_first_weight(d, "1e999"), "is inf; weights must be finite"),
    ("NaN", lambda d: _replace_first_weight(d, "NaN"), "is nan; weights must be finite"),
    ("nesting 100,000 deep", lambda d: json.dumps(d)[:-1] + ', "metadata": ' + "[" * 100_000 + "]" * 100_000 + "}",
     "nested too deeply"),
    ("nesting 100,000 deep, unclosed", lambda d: "[" * 100_000, "nested too deeply|not valid JSON"),
    ("Latin-1 text", lambda d: json.dumps({**d, "metadata": {"author": "Zoë"}}, ensure_ascii=False).encode("latin-1"),
     r"not UTF-8 text \(byte 0xeb at offset \d+\)"),
    ("UTF-16 text", lambda d: json.dumps(d).encode("utf-16"), "not UTF-8 text"),
    ("empty file", lambda d: "", r"not valid JSON \(Expecting value at line 1, column 1\)"),
    ("a key twice", lambda d: json.dumps(d)[:-1] + ', "version": 1}', "the key 'version' appears twice"),
    ("a JSON array", lambda d: [d], r"not a valuegrad model file \(.*got a JSON array\)"),
    ("version true", lambda d: {**d, "version": True}, "format version True is not supported"),
    ("version 1.0", lambda d: {**d, "version": 1.0}, "format version 1.0 is not supported"),
    ("version '1'", lambda d: {**d, "version": "1"}, "format version '1' is not supported"),
    ("fused 'no'", lambda d: {**d, "architecture": {**d["architecture"], "fused": "no"}},
     "bad architecture: \"fused\" must be true or false, got 'no'"),
    ("nin 2.0", lambda d: {**d, "architecture": {**d["architecture"], "nin": 2.0}},
     "\"nin\" must be a positive integer, got 2.0"),
    ("nin true", lambda d: {**d, "architecture": {**d["architecture"], "nin": True}},
     "\"nin\" must be a positive integer, got True"),
    ("nouts 3", lambda d: {**d, "architecture": {**d["architecture"], "nouts": 3}},
     "\"nouts\" must be a non-empty list of positive integers"),
    ("nouts with a bool", lambda d: {**d, "architecture": {**d["architecture"], "nouts": [4, True]}},
     "\"nouts\" must be a non-empty list"),
    ("activation 'gelu'", lambda d: {**d, "architecture": {**d["architecture"], "activation": "gelu"}},
     "\"activation\" must be one of 'relu', 'tanh'"),
    ("unknown architecture key", lambda d: {**d, "architecture": {**d["architecture"], "dropout": 0.5}},
     r"bad architecture: unknown keys \['dropout'\]"),
    ("missing architecture key", lambda d: {**d, "architecture": {k: v for k, v in d["architecture"].items()
                                                                  if k != "init"}},
     "bad architecture: missing init"),
    ("architecture type 7", lambda d: {**d, "architecture": {**d["architecture"], "type": 7}},
     "\"architecture\" must be an object naming the model's \"type\""),
    ("unknown top-level key", lambda d: {**d, "optimizer": {}}, r"unknown keys \['optimizer'\]"),
    ("state_dict a list", lambda d: {**d, "state_dict": [1.0]}, "\"state_dict\" must be an object"),
    ("metadata a list", lambda d: {**d, "metadata": [1]}, "\"metadata\" must be an object"),
    ("a tie to nothing", lambda d: {**d, "ties": {"layers.1.neurons.0.b": "nowhere"}}, "\"ties\" maps"),
    ("a weight as a string", lambda d: {**d, "state_dict": {**d["state_dict"], _first_weight(d): "0.5"}},
     "must be a number, got str"),
    ("a weight as true", lambda d: {**d, "state_dict": {**d["state_dict"], _first_weight(d): True}},
     "must be a number, got bool"),
]


@pytest.mark.parametrize(("mutate", "message"), [(m, msg) for _, m, msg in HOSTILE], ids=[h[0] for h in HOSTILE])
def test_hostile_files_are_one_value_error_naming_the_file(
    tmp_path: Path, mutate: Callable[[dict[str, Any]], object], message: str
) -> None:
    path, doc = _saved(tmp_path)
    _write(path, mutate(doc))
    _refused(path, message)
    into = _model()
    into.layers[0].neurons[0].w[0].data = 0.25
    before = into.state_dict()
    _refused(path, message, into=into)
    assert into.state_dict() == before


def test_load_metadata_refuses_hostile_files_the_same_way(tmp_path: Path) -> None:
    path, doc = _saved(tmp_path, metadata={"classes": ["a", "b"]})
    assert load_metadata(path) == {"classes": ["a", "b"]}
    for content, message in [
        (b"\xff\xfe{", "not UTF-8 text"),
        ("[" * 100_000, "nested too deeply|not valid JSON"),
        ({**doc, "version": 1.0}, "format version 1.0 is not supported"),
        ({**doc, "metadata": "classes"}, "\"metadata\" must be an object"),
    ]:
        _write(path, content)
        with pytest.raises(ValueError, match=message) as info:
            load_metadata(path)
        assert str(path) in str(info.value)


def test_a_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    path, _ = _saved(tmp_path)
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert nn.load(path).state_dict() == _model().state_dict()


# --- save writes what load rebuilds, or refuses -----------------------------------------------


def test_tied_weights_round_trip_and_stay_tied(tmp_path: Path) -> None:
    model = _model()
    model.layers[1].neurons[2].w[3] = model.layers[1].neurons[0].w[0]
    model.layers[0].neurons[1].b = model.layers[0].neurons[0].b
    model.layers[0].neurons[0].b.data = 0.5
    path, doc = _saved(tmp_path, model)
    assert doc["ties"] == {"layers.0.neurons.1.b": "layers.0.neurons.0.b",
                           "layers.1.neurons.2.w.3": "layers.1.neurons.0.w.0"}
    loaded = nn.load(path)
    assert isinstance(loaded, MLP)
    assert loaded.state_dict() == model.state_dict()
    assert loaded.layers[1].neurons[2].w[3] is loaded.layers[1].neurons[0].w[0]
    assert loaded.layers[0].neurons[1].b is loaded.layers[0].neurons[0].b
    assert loaded.num_parameters() == model.num_parameters() == 27 - 2
    x = [0.3, -0.8]
    assert [v.data for v in loaded(x)] == [v.data for v in model(x)]  # type: ignore[union-attr]
    # into= needs the same ties: an untied MLP is refused and left as it was
    untied = _model()
    before = untied.state_dict()
    _refused(path, "the file ties parameters as", into=untied)
    assert untied.state_dict() == before
    assert nn.load(path, into=loaded) is loaded


def test_ties_that_do_not_match_the_order_of_the_walk_are_refused(tmp_path: Path) -> None:
    path, doc = _saved(tmp_path)
    state = doc["state_dict"]
    # name the later parameter as the first one: rebuilding would list it under the other name
    del state["layers.0.neurons.0.w.0"]
    doc["ties"] = {"layers.0.neurons.0.w.0": "layers.1.neurons.0.w.0"}
    _write(path, doc)
    _refused(path, "\"ties\" are inconsistent")


def test_a_tied_module_of_any_class_round_trips_into_an_instance(tmp_path: Path) -> None:
    class Tied(Module):
        def __init__(self) -> None:
            self.a = Value(1.0)
            self.pair = [self.a, Value(2.0)]

    t = Tied()
    t.a.data = 7.0
    path = tmp_path / "t.json"
    t.save(path)
    fresh = Tied()
    assert nn.load(path, into=fresh) is fresh
    assert fresh.a.data == 7.0 and fresh.pair[0] is fresh.a


def test_every_path_to_a_parameter_is_listed_on_request_and_a_cycle_is_walked_once(tmp_path: Path) -> None:
    model = MLP(1, [1], seed=0)
    model.layers[0].neurons[0].w.append(model.layers[0].neurons[0].b)
    model.me = model  # type: ignore[attr-defined]
    assert [n for n, _ in model.named_parameters()] == ["layers.0.neurons.0.w.0", "layers.0.neurons.0.w.1"]
    assert [n for n, _ in model.named_parameters(remove_duplicate=False)] == [
        "layers.0.neurons.0.w.0", "layers.0.neurons.0.w.1", "layers.0.neurons.0.b"]
    assert nn.io.parameter_ties(model) == {"layers.0.neurons.0.b": "layers.0.neurons.0.w.1"}


def test_save_refuses_an_extra_value_attribute_on_an_mlp_naming_it(tmp_path: Path) -> None:
    path, _ = _saved(tmp_path)
    old = path.read_bytes()
    model = _model()
    model.temperature = Value(1.0)  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match=r"refusing to save the MLP: its attribute 'temperature' holds parameters"):
        model.save(path)
    assert path.read_bytes() == old
    assert [p.name for p in tmp_path.iterdir()] == ["model.json"]
    del model.temperature  # type: ignore[attr-defined]
    model.save(path)  # fine again
    assert nn.load(path).state_dict() == model.state_dict()


def test_save_checks_an_mlp_before_anything_has_loaded_the_file_format(tmp_path: Path) -> None:
    """The checks live with the writer: they ran only once ``nn.io`` had been imported (which
    registered them), so a fresh ``import nn`` then ``model.save`` wrote a file ``load`` rejects."""
    code = (
        "import sys\n"
        f"sys.path.insert(0, {str(Path(__file__).resolve().parents[2])!r})\n"
        "import nn\n"
        "from autograd import Value\n"
        "assert 'nn.io' not in sys.modules\n"
        "model = nn.MLP(2, [3, 1], seed=0)\n"
        "model.temperature = Value(1.0)\n"
        "try:\n"
        f"    model.save({str(tmp_path / 'model.json')!r})\n"
        "except ValueError as e:\n"
        "    print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    assert out.stdout.startswith("refusing to save the MLP: its attribute 'temperature' holds parameters")
    assert not (tmp_path / "model.json").exists()


def test_save_refuses_an_mlp_whose_layers_no_longer_match_its_architecture(tmp_path: Path) -> None:
    model = _model()
    model.layers.append(Layer(3, 2, rng=random.Random(0)))
    with pytest.raises(ValueError, match=r"model.layers no longer matches its architecture \(nin=2, nouts=\[4, 3\]\): "
                                         r"unexpected parameters \['layers.2.neurons.0.w.0'"):
        model.save(tmp_path / "m.json")
    model = _model()
    model.layers[1] = Layer(4, 2, rng=random.Random(0))
    with pytest.raises(ValueError, match=r"missing parameters \['layers.1.neurons.2.w.0'"):
        model.save(tmp_path / "m.json")
    model = _model()
    model.layers[0].neurons[2].activation = "relu"
    with pytest.raises(ValueError, match=r"layers\.0\.neurons\.2 uses activation 'relu' but the architecture says"):
        model.save(tmp_path / "m.json")
    assert list(tmp_path.iterdir()) == []


def test_load_into_needs_the_same_architecture(tmp_path: Path) -> None:
    path, _ = _saved(tmp_path)
    relu = MLP(2, [4, 3], activation="relu", seed=5)
    before = relu.state_dict()
    _refused(path, "the file's MLP has activation='tanh', into= has activation='relu'", into=relu)
    assert relu.state_dict() == before
    unfused = MLP(2, [4, 3], activation="tanh", init="he", fused=False, seed=1)  # neither changes the numbers
    assert nn.load(path, into=unfused).state_dict() == _model().state_dict()


def test_load_leaves_the_global_random_state_alone(tmp_path: Path) -> None:
    path, _ = _saved(tmp_path)
    random.seed(1234)
    before = random.getstate()
    nn.load(path)
    assert random.getstate() == before


# --- the numbers load_state_dict takes ----------------------------------------------------------


def test_load_state_dict_takes_every_real_number_value_takes() -> None:
    np = pytest.importorskip("numpy")
    model = MLP(1, [1, 1], seed=0)  # 4 parameters
    names = list(model.state_dict())
    model.load_state_dict(dict(zip(names, [Fraction(1, 4), np.float32(0.5), np.int64(-3), 2])))
    assert list(model.state_dict().values()) == [0.25, 0.5, -3.0, 2.0]
    assert all(type(v) is float for v in model.state_dict().values())
    for bad, error, message in [
        (True, TypeError, "must be a number, got bool"),
        (np.bool_(True), TypeError, "must be a number, got bool"),
        ("1.0", TypeError, "must be a number, got str"),
        (1j, TypeError, "must be a number, got complex"),
        (None, TypeError, "must be a number, got NoneType"),
        (math.inf, ValueError, "is inf; weights must be finite"),
        (np.float64("nan"), ValueError, "is nan; weights must be finite"),
        (10**400, ValueError, "is <an integer of 401 digits>; weights must be finite"),
        (Fraction(10**400, 3), ValueError, "weights must be finite"),
    ]:
        state = dict(zip(names, [0.0, 0.0, 0.0, bad]))
        with pytest.raises(error, match=message):
            model.load_state_dict(state)
        assert list(model.state_dict().values()) == [0.25, 0.5, -3.0, 2.0]


def test_load_state_dict_messages_stay_short_for_huge_keys_and_values() -> None:
    model = MLP(1, [1], seed=0)
    with pytest.raises(ValueError) as info:
        model.load_state_dict({"w" * 1_000_000: 1.0, "layers.0.neurons.0.b": 0.0})
    assert len(str(info.value)) < 500
    state = {"layers.0.neurons.0.w.0": -(10**5000), "layers.0.neurons.0.b": 0.0}
    with pytest.raises(ValueError, match="integer of 5001 digits"):
        model.load_state_dict(state)


# --- fuzzing ------------------------------------------------------------------------------------

FUZZ_MODEL_SEED = 3


def _fuzz_model() -> MLP:
    model = MLP(2, [3, 2], seed=FUZZ_MODEL_SEED)
    model.layers[1].neurons[1].w[2] = model.layers[1].neurons[0].w[0]  # a tie, so "ties" is fuzzed too
    return model


def _paths(doc: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a JSON document: the root, each key of each object, each item of each array."""
    out = [prefix]
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out += _paths(v, (*prefix, i))
    return out


_VALID_DOC: dict[str, Any] = json.loads(
    json.dumps({"format": "valuegrad-model", "version": 1,
                "architecture": {"type": "MLP", **_fuzz_model().config},
                "state_dict": _fuzz_model().state_dict(),
                "ties": {"layers.1.neurons.1.w.2": "layers.1.neurons.0.w.0"},
                "metadata": {"classes": ["a", "b"], "mean": [0.5, -1.0]}})
)
_PATHS = _paths(_VALID_DOC)


def test_the_document_the_fuzzers_mutate_is_a_valid_model_file(tmp_path: Path) -> None:
    path = _write(tmp_path / "valid.json", _VALID_DOC)
    assert nn.load(path).state_dict() == _fuzz_model().state_dict()
    assert load_metadata(path) == {"classes": ["a", "b"], "mean": [0.5, -1.0]}
    assert len(_PATHS) > 30  # the root, each field, each weight, each list item

_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=10**300, max_value=10**1200)
    | st.integers(min_value=-(10**1200), max_value=-(10**300))
    | st.floats()  # nan and infinities included
    | st.text(max_size=20)
    | st.sampled_from(["MLP", "relu", "micrograd", "layers.0.neurons.0.b", "valuegrad-model", "", "1"])
)
_junk = st.recursive(_scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                                          max_size=4), max_leaves=12)


def _mutate(doc: Any, path: tuple[Any, ...], action: str, value: Any) -> Any:
    """A copy of ``doc`` with the thing at ``path`` replaced, deleted, or given a sibling key."""
    if not path:
        return value
    copy = json.loads(json.dumps(doc))
    parent = copy
    for key in path[:-1]:
        parent = parent[key]
    last = path[-1]
    if action == "replace":
        parent[last] = value
    elif action == "delete":
        del parent[last]
    elif isinstance(parent, dict):
        parent[f"{last}_extra"] = value
    else:
        parent.append(value)
    return copy


def _dump(doc: Any, indent: int | None) -> str:
    return json.dumps(doc, indent=indent, allow_nan=True)


def _load_or_refuse(path: Path, into: MLP | None = None) -> bool:
    """Load ``path``; True if it loaded, False if refused with a ValueError naming the file (anything
    else fails the test). A refused ``into`` must be unchanged."""
    before = into.state_dict() if into is not None else None
    try:
        model = nn.load(path, into=into)
    except ValueError as e:
        assert str(path) in str(e)
        assert len(str(e)) < 2000, "error messages stay readable"
        if into is not None:
            assert into.state_dict() == before
        return False
    assert isinstance(model, MLP)
    assert all(math.isfinite(v) for v in model.state_dict().values())
    return True


@settings(NO_DEADLINE, max_examples=400, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=st.sampled_from(_PATHS), action=st.sampled_from(["replace", "delete", "add"]), value=_junk,
       indent=st.sampled_from([None, 1]))
def test_fuzz_mutated_model_files_load_or_raise_one_value_error(
    tmp_path: Path, path: tuple[Any, ...], action: str, value: Any, indent: int | None
) -> None:
    file = tmp_path / "fuzz.json"
    file.write_text(_dump(_mutate(_VALID_DOC, path, action, value), indent))
    _load_or_refuse(file)
    into = _fuzz_model()
    into.layers[0].neurons[0].b.data = 0.125
    _load_or_refuse(file, into=into)
    try:
        load_metadata(file)
    except ValueError as e:
        assert str(file) in str(e)


def test_fuzz_every_truncation_of_a_valid_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "whole.json"
    _fuzz_model().save(path, metadata={"classes": ["a", "b"]})
    whole = path.read_bytes()
    assert nn.load(path).state_dict() == _fuzz_model().state_dict()
    cut = tmp_path / "cut.json"
    into = _fuzz_model()
    for n in range(len(whole.rstrip())):
        cut.write_bytes(whole[:n])
        assert not _load_or_refuse(cut, into=into), f"a file cut after {n} bytes loaded"
        assert not _load_or_refuse(cut)
        with pytest.raises(ValueError):
            load_metadata(cut)


@settings(NO_DEADLINE, max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_fuzz_corrupted_bytes_load_or_raise_one_value_error(tmp_path: Path, data: st.DataObject) -> None:
    path = tmp_path / "c.json"
    raw = bytearray(_dump(_VALID_DOC, 1).encode())
    for _ in range(data.draw(st.integers(1, 4), label="edits")):
        at = data.draw(st.integers(0, len(raw) - 1), label="offset")
        raw[at] = data.draw(st.sampled_from([0x00, 0x22, 0x2C, 0x2D, 0x31, 0x39, 0x5B, 0x5D, 0x7B, 0x7D, 0x80,
                                             0xE9, 0xFF, ord("e"), ord("n")]), label="byte")
    path.write_bytes(bytes(raw))
    _load_or_refuse(path, into=_fuzz_model())
    _load_or_refuse(path)


@settings(NO_DEADLINE, max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
def test_fuzz_arbitrary_bytes_are_refused(tmp_path: Path, content: bytes) -> None:
    path = _write(tmp_path / "junk.json", content)
    assert not _load_or_refuse(path)
    with pytest.raises(ValueError):
        load_metadata(path)


_NAMES = list(_fuzz_model().state_dict())


@settings(NO_DEADLINE, max_examples=300)
@given(
    kept=st.lists(st.sampled_from(_NAMES), unique=True),
    values=st.lists(st.floats() | _scalars | st.fractions() | st.decimals(allow_nan=True) | st.complex_numbers(),
                    min_size=len(_NAMES), max_size=len(_NAMES)),
    extra=st.dictionaries(st.text(max_size=10) | st.integers(), _scalars, max_size=3),
    whole=st.booleans(),
)
def test_fuzz_load_state_dict_raises_only_type_or_value_errors_and_changes_nothing_when_it_does(
    kept: list[str], values: list[Any], extra: dict[Any, Any], whole: bool
) -> None:
    model = _fuzz_model()
    before = model.state_dict()
    names = _NAMES if whole else kept
    state: dict[Any, Any] = dict(zip(names, values))
    state.update(extra)
    try:
        model.load_state_dict(state)
    except (TypeError, ValueError):
        assert model.state_dict() == before
    else:
        assert set(state) == set(_NAMES)
        assert all(type(v) is float and math.isfinite(v) for v in model.state_dict().values())
