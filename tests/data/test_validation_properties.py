"""Property tests: over 10,000 random and garbage inputs through Study validation and the importer.

Every rejection must be a pydantic ValidationError whose errors each name a field path and a type
(any other exception fails the test), and every accepted record must lie inside the published
ranges of resources/measurements.json, read here independently of echogpt.units.
"""

from __future__ import annotations

import csv
import io
import json
import math
from importlib import resources
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from echogpt.data.load import load_studies_bytes
from echogpt.data.record_schemas import FULL_STUDY
from echogpt.files import FileError
from echogpt.schemas import LVEF, Measurements, Patient, Study

# NUL bytes refuse a whole text file (test_data.py), so row-level strategies leave them out
TEXT = st.characters(exclude_characters="\x00", exclude_categories=["Cs"])
# ... and lone surrogates, which pydantic cannot even render in an error message; the importer
# meets them only as JSON escapes, which its own test feeds it
SURROGATE_LINES = st.sampled_from(['{"study_id": "\\ud800", "findings_text": "x"}',
                                   '{"study_id": "a", "findings_text": "x", "\\udfff": 1}',
                                   '["\\ud83d"]'])
TABLE = json.loads(resources.files("echogpt.resources").joinpath("measurements.json").read_text("utf-8"))
RANGES = {name: (f["min"], f["max"]) for name, f in TABLE["fields"].items()}
UNITS = sorted({u for dim in TABLE["units"].values() for u in dim if u} | {"kg", "lb", "in", "%", "m"})
pytestmark = pytest.mark.slow  # over 10,000 examples: a minute or two on two cores

# Adult ranges stated in the Patient field descriptions (schemas/patient.py)
AGE, HEIGHT, WEIGHT, BSA = (18, 120), (120, 230), (30, 300), (0.9, 3.2)

_BASE = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                       HealthCheck.filter_too_much])


def examples(n: int) -> settings:
    """Hypothesis settings for n examples, no per-example deadline (CI runs on 2 shared cores)."""
    return settings(_BASE, max_examples=n)

# ---------------------------------------------------------------- strategies

numbers = st.one_of(st.integers(-10**6, 10**6), st.floats(allow_nan=True, allow_infinity=True),
                    st.floats(0, 600))
number_text = st.builds(lambda n, sep, u: f"{n}{sep}{u}", st.one_of(st.integers(-50, 900),
                        st.floats(0, 900).map(lambda x: round(x, 2))), st.sampled_from(["", " ", "  "]),
                        st.one_of(st.sampled_from(UNITS), st.text(TEXT, max_size=4)))
scalars = st.one_of(st.none(), st.booleans(), numbers, number_text, st.text(TEXT, max_size=12),
                    st.sampled_from(["", " ", "NA", "n/a", "-", "nan", "inf", "1e999", "9" * 400]))
value_objects = st.fixed_dictionaries({"value": scalars}, optional={
    "unit": st.one_of(st.sampled_from(UNITS), st.integers(), st.none()), "extra": scalars})
measurement_values = st.one_of(scalars, value_objects, st.lists(scalars, max_size=2))
json_like = st.recursive(scalars, lambda kids: st.one_of(
    st.lists(kids, max_size=3), st.dictionaries(st.text(TEXT, max_size=8), kids, max_size=3)), max_leaves=8)

measurement_dicts = st.dictionaries(
    st.one_of(st.sampled_from(sorted(Measurements.model_fields)), st.text(TEXT, max_size=6)),
    measurement_values, max_size=8)
lvef_text = st.builds(lambda a, s, b, p: f"{a}{s}{b}{p}", st.integers(-5, 200),
                      st.sampled_from(["-", "–", " to ", " - ", "—", "/"]), st.integers(-5, 200),
                      st.sampled_from(["", "%", " %", " percent"]))
lvef_values = st.one_of(lvef_text, measurement_values, st.sampled_from(
    ["normal", "severely reduced", "mildly depressed", "vigorous", "borderline", "hmm"]),
    st.dictionaries(st.sampled_from(["low", "high", "qualitative", "method", "value", "x"]),
                    scalars, max_size=4))
patients = st.dictionaries(
    st.sampled_from(["age", "sex", "height_cm", "weight_kg", "bsa_m2", "weight"]),
    st.one_of(measurement_values, st.sampled_from(["M", "F", "woman", "1.70 m", "67 in", "154 lb"])),
    max_size=5)


@st.composite
def near_range_measurements(draw: st.DrawFn) -> dict[str, Any]:
    """Values from 0.8x the minimum to 1.2x the maximum, bare or written in another unit."""
    names = draw(st.lists(st.sampled_from(sorted(set(RANGES) - {"lvef"})), min_size=1, max_size=3))
    out: dict[str, Any] = {}
    for name in names:
        lo, hi = RANGES[name]
        value = draw(st.floats(lo * 0.8, hi * 1.2 + 1e-9, allow_nan=False))
        factors = TABLE["units"][TABLE["fields"][name]["dimension"]]
        unit = draw(st.sampled_from(sorted(factors)))
        shown = round(value / factors[unit], draw(st.integers(0, 4)))
        form = draw(st.sampled_from(["bare", "text", "object"])) if unit else "bare"
        out[name] = {"bare": shown, "text": f"{shown} {unit}",
                     "object": {"value": shown, "unit": unit}}[form]
    return out


near_range_patients = st.fixed_dictionaries({}, optional={
    "age": st.floats(10, 130),
    "height_cm": st.one_of(st.floats(100, 250), st.floats(1.0, 2.5).map(lambda m: f"{m:.2f} m"),
                           st.floats(40, 100).map(lambda i: f"{i:.1f} in")),
    "weight_kg": st.one_of(st.floats(20, 320), st.floats(40, 700).map(lambda lb: f"{lb:.0f} lb")),
    "bsa_m2": st.floats(0.5, 3.5),
    "sex": st.sampled_from(["M", "F", "male", "x"]),
})


def _paths(obj: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix] if prefix else []
    if isinstance(obj, dict):
        for k, v in obj.items():
            out += _paths(v, (*prefix, k))
    return out


FULL_PATHS = _paths(FULL_STUDY)


@st.composite
def mutated_studies(draw: st.DrawFn) -> dict[str, Any]:
    """The full example study with a few values replaced by garbage or deleted."""
    study = json.loads(json.dumps(FULL_STUDY))
    for path in draw(st.lists(st.sampled_from(FULL_PATHS), min_size=1, max_size=4)):
        node = study
        for key in path[:-1]:
            node = node.get(key) if isinstance(node, dict) else None
        if isinstance(node, dict) and path[-1] in node:
            if draw(st.booleans()):
                node[path[-1]] = draw(st.one_of(measurement_values, json_like))
            else:
                del node[path[-1]]
    return study


garbage_studies = st.dictionaries(
    st.one_of(st.sampled_from(sorted(Study.model_fields)), st.text(TEXT, max_size=6)),
    st.one_of(json_like, measurement_dicts, patients), max_size=6)

# ---------------------------------------------------------------- checks


def _rejection_is_clean(err: ValidationError) -> None:
    assert err.error_count() >= 1
    for e in err.errors():
        assert isinstance(e["loc"], tuple) and e["loc"], e
        assert all(isinstance(p, str | int) for p in e["loc"]), e
        assert isinstance(e["type"], str) and e["type"], e
        assert isinstance(e["msg"], str) and e["msg"], e


def _within(value: float | None, bounds: tuple[float, float]) -> bool:
    return value is None or (math.isfinite(value) and bounds[0] <= value <= bounds[1])


def _check_lvef(lvef: LVEF | None) -> None:
    if lvef is None:
        return
    assert lvef.low is not None or lvef.qualitative is not None
    if lvef.low is not None:
        assert _within(lvef.low, RANGES["lvef"]) and _within(lvef.high, RANGES["lvef"])
        assert lvef.low <= lvef.high


def _check_measurements(m: Measurements | None) -> None:
    if m is None:
        return
    for name, bounds in RANGES.items():
        if name != "lvef":
            assert _within(getattr(m, name), bounds), (name, getattr(m, name))
    _check_lvef(m.lvef)


def _check_patient(p: Patient | None) -> None:
    if p is None:
        return
    assert _within(p.age, AGE), p.age
    assert _within(p.height_cm, HEIGHT) and _within(p.weight_kg, WEIGHT)
    assert _within(p.bsa_m2, BSA), p.bsa_m2


def _check_study(s: Study) -> None:
    assert s.study_id and s.findings_text and s.patient_id
    _check_patient(s.patient)
    _check_measurements(s.measurements)
    if s.prior:
        _check_measurements(s.prior.measurements)
        _check_lvef(s.prior.lvef)
    if s.findings:
        assert all(1 <= k <= 17 for k in s.findings.wall_motion)


def _validate(model: type, data: Any, check: Any) -> None:
    try:
        obj = model.model_validate(data)
    except ValidationError as err:  # anything else (TypeError, AttributeError ...) fails the test
        _rejection_is_clean(err)
    else:
        check(obj)
        json.dumps(obj.model_dump(mode="json"), allow_nan=False)


# ---------------------------------------------------------------- properties (10,500 examples)


@examples(2500)
@given(st.one_of(measurement_dicts, near_range_measurements()))
def test_garbage_measurements(data: dict[str, Any]) -> None:
    _validate(Measurements, data, _check_measurements)


@examples(1000)
@given(lvef_values)
def test_garbage_lvef(value: Any) -> None:
    _validate(Measurements, {"lvef": value}, _check_measurements)


@examples(1500)
@given(st.one_of(patients, near_range_patients))
def test_garbage_patients(data: dict[str, Any]) -> None:
    _validate(Patient, data, _check_patient)


@examples(2000)
@given(garbage_studies)
def test_garbage_studies(data: dict[str, Any]) -> None:
    _validate(Study, data, _check_study)


@examples(2500)
@given(mutated_studies())
def test_mutated_full_studies(data: dict[str, Any]) -> None:
    _validate(Study, data, _check_study)


@examples(600)
@given(st.lists(st.one_of(st.builds(json.dumps, garbage_studies), st.builds(json.dumps, mutated_studies()),
                          st.text(TEXT, max_size=20), SURROGATE_LINES), min_size=1, max_size=4))
def test_importer_accounts_for_every_jsonl_line(lines: list[str]) -> None:
    text = "\n".join(line.replace("\n", " ").replace("\r", " ") for line in lines)
    data = text.encode("utf-8")
    try:
        result = load_studies_bytes(data, "upload.jsonl")
    except FileError as err:  # only an empty upload may be refused as a whole
        assert not text.strip(), err
        return
    nonblank = [n for n, line in enumerate(text.splitlines(), start=1) if line.strip()]
    _accounts_for(result, nonblank)


def _accounts_for(result: Any, nonblank: list[int]) -> None:
    """Every non-blank row is either a study or a reject, and each reject is explained."""
    rejected = [r.row for r in result.rejects]
    assert len(set(rejected)) == len(rejected) and set(rejected) <= set(nonblank)
    assert len(result.studies) + len(rejected) == len(nonblank) == result.counts["rows"]
    for reject in result.rejects:
        assert reject.errors and all(e.type and e.message for e in reject.errors)
        json.dumps(reject.model_dump(mode="json"), allow_nan=False)
    for study in result.studies:
        _check_study(study)


@examples(400)
@given(st.lists(st.lists(st.one_of(st.text(TEXT, max_size=8), number_text), min_size=0, max_size=5),
                min_size=1, max_size=5))
def test_importer_accounts_for_every_csv_row(cells: list[list[str]]) -> None:
    header = ["study_id", "findings_text", "measurements.lvidd", "patient.age",
              "findings.mitral.regurgitation"]
    buf = io.StringIO()
    csv.writer(buf).writerows([header, *cells])
    nonblank = [n for n, row in enumerate(cells, start=2) if any(c.strip() for c in row)]
    try:
        result = load_studies_bytes(buf.getvalue().encode(), "upload.csv")
    except FileError as err:  # a good header is refused only when no data row follows
        assert not nonblank, err
        return
    _accounts_for(result, nonblank)
