"""Scene parameter specs: parsing, ranges, defaults, unknown names, file-name slugs."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from neuroanim import registry
from neuroanim.errors import UserError
from neuroanim.params import Param, resolve, variant

LR = Param("lr", "float", 0.5, "learning rate", low=0, low_open=True, high=1000)
EPOCHS = Param("epochs", "int", 100, "epochs", low=1, high=10_000)
GATE = Param("gate", "choice", "AND", "gate", choices=("AND", "XOR"))
LRS = Param("lrs", "float", (), "rates", multiple=True, low=0, low_open=True)
FILE = Param("trajectory_file", "path", None, "a file")
SPEC = (LR, EPOCHS, GATE, LRS, FILE)


def test_flag_and_type_names():
    assert FILE.flag == "--trajectory-file", FILE.flag
    assert GATE.type_name() == "AND|XOR", GATE.type_name()
    assert LRS.type_name() == "float...", LRS.type_name()


@pytest.mark.parametrize("raw, want", [("0.25", 0.25), ("1e-3", 0.001), (3, 3.0),
                                       ("1000", 1000.0)])
def test_float_parses_text_and_numbers(raw, want):
    assert LR.parse(raw) == want, f"{raw!r} -> {LR.parse(raw)!r}, want {want}"


@pytest.mark.parametrize("raw, words", [
    ("abc", "not a number"), ("nan", "finite"), ("inf", "finite"),
    ("-1", ">"), ("0", "> 0"), ("1000.5", "<= 1000"), (True, "number"),
])
def test_float_rejects_with_the_flag_named(raw, words):
    with pytest.raises(UserError) as err:
        LR.parse(raw)
    msg = str(err.value)
    assert msg.startswith("--lr:"), f"message does not name the option: {msg}"
    assert words in msg, f"{words!r} missing from {msg!r}"
    assert "\n" not in msg, f"not one line: {msg!r}"


@pytest.mark.parametrize("raw, want", [("7", 7), (7.0, 7), ("10000", 10_000)])
def test_int_parses_whole_numbers_only(raw, want):
    got = EPOCHS.parse(raw)
    assert got == want and isinstance(got, int), f"{raw!r} -> {got!r}"


@pytest.mark.parametrize("raw", ["2.5", 2.5, "1e3", "0", "-4", "10001", "ten"])
def test_int_rejects(raw):
    with pytest.raises(UserError, match=r"^--epochs: "):
        EPOCHS.parse(raw)


def test_low_closed_accepts_the_bound_and_open_rejects_it():
    assert EPOCHS.parse("1") == 1, "low=1 is inclusive"
    with pytest.raises(UserError, match="must be > 0"):
        LR.parse("0")


def test_choice_is_case_insensitive_and_canonical():
    assert GATE.parse("xor") == "XOR", GATE.parse("xor")
    with pytest.raises(UserError, match="one of AND, XOR"):
        GATE.parse("NAND")


def test_multiple_gives_a_tuple_and_checks_each():
    assert LRS.parse(["0.1", "2"]) == (0.1, 2.0), LRS.parse(["0.1", "2"])
    assert LRS.parse("0.3") == (0.3,), "a single value becomes a 1-tuple"
    with pytest.raises(UserError, match="^--lrs: '-2'"):
        LRS.parse(["0.1", "-2"])


def test_resolve_fills_defaults_and_accepts_dashed_names():
    got = resolve(SPEC, {"lr": "0.1", "trajectory-file": "x.json"}, "demo")
    want = {"lr": 0.1, "epochs": 100, "gate": "AND", "lrs": (), "trajectory_file":
            "x.json"}
    assert got == want, got


def test_resolve_treats_none_and_empty_as_not_given():
    got = resolve(SPEC, {"lr": None, "lrs": ()}, "demo")
    assert got["lr"] == 0.5 and got["lrs"] == (), got


def test_resolve_rejects_unknown_options_naming_them_and_the_choices():
    with pytest.raises(UserError) as err:
        resolve(SPEC, {"learning_rate": 1}, "demo")
    msg = str(err.value)
    assert "'learning_rate'" in msg and "lr, epochs" in msg, msg


def test_variant_is_empty_at_defaults_and_names_changed_values():
    assert variant(SPEC, resolve(SPEC, {}, "d")) == "", "defaults need no suffix"
    assert variant(SPEC, resolve(SPEC, {"lr": "0.50"}, "d")) == "", \
        "a default given in another spelling is still the default"
    v = variant(SPEC, resolve(SPEC, {"gate": "xor", "lrs": ["0.1", "2"],
                                     "trajectory_file": "runs/My Run.json"}, "d"))
    assert v == "gatexor-lrs0.1_2-trajectoryfilemy_run", v


def test_variant_keeps_exact_values_apart():
    a = variant(SPEC, {"lr": 0.1234567})
    b = variant(SPEC, {"lr": 0.1234568})
    assert a != b, f"different rates share the file name {a}"


@given(st.floats(min_value=1e-9, max_value=1000, allow_nan=False))
def test_float_round_trips_through_text(x):
    assert LR.parse(repr(x)) == x, x


@given(st.lists(st.floats(min_value=1e-6, max_value=1000), min_size=1, max_size=3,
                unique=True),
       st.lists(st.floats(min_value=1e-6, max_value=1000), min_size=1, max_size=3,
                unique=True))
def test_variant_is_injective_on_rates(a, b):
    va = variant(SPEC, {"lrs": tuple(a)})
    vb = variant(SPEC, {"lrs": tuple(b)})
    assert (va == vb) == (tuple(a) == tuple(b)), (a, b, va, vb)
    assert all(ch.isalnum() or ch in "._-" for ch in va), f"unsafe file name {va}"


@pytest.mark.parametrize("kw, words", [
    ({"kind": "number"}, "kind"),
    ({"kind": "choice"}, "choices"),
    ({"kind": "int", "choices": ("a",)}, "choices"),
    ({"kind": "int", "default": -1, "low": 0}, "bad default"),
    ({"kind": "int", "default": "1"}, "canonical"),
])
def test_malformed_specs_fail_when_declared(kw, words):
    args = {"name": "x", "kind": "int", "default": 1, "help": "h", **kw}
    with pytest.raises(ValueError, match=words):
        Param(**args)


@pytest.mark.parametrize("spec", list(registry.scenes().values()), ids=lambda s: s.name)
def test_every_registered_default_is_valid(spec):
    values = spec.resolve({})
    for p in spec.params:
        v = values[p.name]
        if v not in (None, ()):
            assert p.parse(v) == v, f"{spec.name} {p.flag} default {v!r}"
        if p.kind in ("int", "float") and isinstance(v, float):
            assert math.isfinite(v), f"{spec.name} {p.flag}"
