"""Study schema behaviour (units, ranges, LVEF forms, derivations) and the published JSON Schemas."""

from __future__ import annotations

import json
import math
from pathlib import Path

import jsonschema
import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from echogpt.cli import app
from echogpt.data.record_schemas import EXPORTED_MODELS, FULL_STUDY, export_schemas, schema_files
from echogpt.schemas import (
    LVEF,
    CheckResult,
    EFCategory,
    Fact,
    Measurements,
    Patient,
    Prediction,
    StatementCheck,
    Study,
    WallMotion,
)

REPO = Path(__file__).resolve().parents[1]
PUBLISHED = REPO / "data_schemas"


def _errors(model: type, data: dict) -> list[dict]:
    with pytest.raises(ValidationError) as info:
        model.model_validate(data)
    return info.value.errors()


def _study(**extra: object) -> Study:
    return Study.model_validate({"study_id": "S1", "findings_text": "Findings.", **extra})


# ---------------------------------------------------------------- measurements


def test_value_with_mm_is_converted_to_cm() -> None:
    assert Measurements.model_validate({"lvidd": "52 mm"}).lvidd == pytest.approx(5.2)
    assert Measurements.model_validate({"lvidd": {"value": 52, "unit": "mm"}}).lvidd == pytest.approx(5.2)


def test_bare_mm_number_is_rejected_with_a_hint() -> None:
    (err,) = _errors(Measurements, {"lvidd": 52})
    assert err["loc"] == ("lvidd",) and err["type"] == "implausible_value"
    assert "looks like mm" in err["msg"]


def test_unit_that_does_not_fit_the_field_is_rejected() -> None:
    (err,) = _errors(Measurements, {"lvidd": "5 kg"})
    assert err["type"] == "unknown_unit" and "kg" in err["msg"]


def test_value_object_refuses_other_keys_and_non_text_units() -> None:
    assert _errors(Measurements, {"lvidd": {"value": 5, "units": "cm"}})[0]["type"] == "unknown_key"
    assert _errors(Measurements, {"lvidd": {"value": 5, "unit": 10}})[0]["type"] == "unknown_unit"


@pytest.mark.parametrize("value", [150, "150 %", float("nan"), "4"])
def test_lvef_outside_5_to_90_is_rejected(value: object) -> None:
    errors = _errors(Measurements, {"lvef": value})
    assert all(e["loc"][0] == "lvef" for e in errors)


@pytest.mark.parametrize("text", ["55–60 %", "55-60%", "55 to 60"])
def test_lvef_range(text: str) -> None:
    lvef = Measurements.model_validate({"lvef": text}).lvef
    assert (lvef.low, lvef.high, lvef.value) == (55, 60, 57.5)


def test_lvef_range_low_above_high_is_rejected() -> None:
    assert _errors(LVEF, "60-55")[0]["type"] == "bad_range"


@pytest.mark.parametrize(("text", "category"), [
    ("moderately reduced", EFCategory.moderately_reduced),
    ("Severely depressed", EFCategory.severely_reduced),
    ("vigorous", EFCategory.hyperdynamic),
    ("low normal", EFCategory.low_normal),
])
def test_qualitative_lvef(text: str, category: EFCategory) -> None:
    lvef = Measurements.model_validate({"lvef": text}).lvef
    assert lvef.qualitative is category and lvef.low is None and lvef.value is None


def test_unknown_measurement_key_is_rejected_by_name() -> None:
    (err,) = _errors(Measurements, {"lvid": 5.0})
    assert err["loc"] == ("lvid",) and err["type"] == "extra_forbidden"


def test_unknown_study_key_is_rejected_by_name() -> None:
    errors = _errors(Study, {"study_id": "S1", "findings_text": "x", "impresion": "typo"})
    assert [(e["loc"], e["type"]) for e in errors] == [(("impresion",), "extra_forbidden")]


# ---------------------------------------------------------------- patient


def test_child_is_rejected() -> None:
    (err,) = _errors(Patient, {"age": 12})
    assert err["type"] == "not_adult" and err["loc"] == ("age",)


def test_nan_age_is_rejected() -> None:
    assert _errors(Patient, {"age": float("nan")})[0]["loc"] == ("age",)


def test_pounds_and_inches_are_converted() -> None:
    p = Patient.model_validate({"weight_kg": "154 lb", "height_cm": "67 in"})
    assert p.weight_kg == pytest.approx(154 * 0.45359237, abs=0.01)   # 69.85 kg
    assert p.height_cm == pytest.approx(67 * 2.54, abs=0.01)           # 170.18 cm


def test_metres_are_converted_to_cm() -> None:
    assert Patient.model_validate({"height_cm": "1.70 m"}).height_cm == pytest.approx(170)


def test_mosteller_bsa() -> None:
    # Mosteller: sqrt(170 cm x 70 kg / 3600) = sqrt(3.3056) = 1.818 m²
    bsa = Patient.model_validate({"height_cm": 170, "weight_kg": 70}).bsa_m2
    assert bsa == pytest.approx(1.818, abs=1e-3)


def test_given_bsa_is_kept() -> None:
    assert Patient.model_validate({"height_cm": 170, "weight_kg": 70, "bsa_m2": 2.0}).bsa_m2 == 2.0


def test_derived_bsa_outside_range_is_rejected() -> None:
    # 230 cm, 300 kg: sqrt(69000 / 3600) = 4.38 m², above the 3.2 m² bound
    (err,) = _errors(Patient, {"height_cm": 230, "weight_kg": 300})
    assert (err["loc"], err["type"]) == (("bsa_m2",), "implausible_value")
    assert "from height and weight" in err["msg"]


# ---------------------------------------------------------------- study


def test_lavi_is_derived_from_la_volume_and_bsa() -> None:
    study = _study(patient={"bsa_m2": 2.0}, measurements={"la_volume": 70})
    assert study.measurements.lavi == pytest.approx(35.0)  # 70 mL / 2.0 m²


def test_given_lavi_is_not_overwritten() -> None:
    study = _study(patient={"bsa_m2": 2.0}, measurements={"la_volume": 70, "lavi": 30})
    assert study.measurements.lavi == 30


def test_implausible_derived_lavi_is_reported_at_measurements() -> None:
    # 400 mL / 0.9 m² = 444 mL/m², above the 200 mL/m² bound
    errors = _errors(Study, {"study_id": "S", "findings_text": "x", "patient": {"bsa_m2": 0.9},
                             "measurements": {"la_volume": 400}})
    assert [(e["loc"], e["type"]) for e in errors] == [(("measurements",), "implausible_value")]


def test_patient_id_defaults_to_study_id_and_may_not_be_blank() -> None:
    assert _study().patient_id == "S1"
    assert _errors(Study, {"study_id": "S", "findings_text": "x", "patient_id": " "})[0]["loc"] == (
        "patient_id",)


@pytest.mark.parametrize(("key", "number"), [
    ("basal inferior", 4), ("mid_anterior", 7), ("Apical-Septal", 14), ("apex", 17),
    ("basal posterior", 5), ("12", 12), (3, 3),
])
def test_wall_motion_segment_names(key: object, number: int) -> None:
    study = _study(findings={"wall_motion": {key: "hypokinesis"}})
    assert study.findings.wall_motion == {number: WallMotion.hypokinetic}


@pytest.mark.parametrize("key", ["18", "0", "basal apex", "²"])
def test_unknown_wall_motion_segment_is_rejected(key: str) -> None:
    errors = _errors(Study, {"study_id": "S", "findings_text": "x",
                             "findings": {"wall_motion": {key: "akinetic"}}})
    assert errors[0]["type"] == "unknown_segment" and errors[0]["loc"] == ("findings", "wall_motion")


def test_minimal_study() -> None:
    study = Study.model_validate({"study_id": "S1", "findings_text": "Normal study."})
    assert study.study_type == "TTE" and study.measurements is None


def test_written_check_result_reads_back() -> None:
    result = CheckResult(study_id="S1", statements=[StatementCheck(
        text="Normal LV.", start=0, end=10, verdict="supported", reason="LVEF 60 %")])
    again = CheckResult.model_validate_json(result.model_dump_json())
    assert again.summary["supported"] == 1


# ---------------------------------------------------------------- published JSON Schemas


def test_published_schemas_match_the_models(tmp_path: Path) -> None:
    written = export_schemas(tmp_path)
    assert len(written) == len(EXPORTED_MODELS) + 2
    stale = [str(p.relative_to(tmp_path)) for p in written
             if not (PUBLISHED / p.relative_to(tmp_path)).exists()
             or (PUBLISHED / p.relative_to(tmp_path)).read_text("utf-8") != p.read_text("utf-8")]
    assert not stale, f"data_schemas/ is stale, run `echogpt export-schemas`: {stale}"


def test_schema_files_are_pretty_sorted_with_trailing_newline() -> None:
    for rel, text in schema_files().items():
        assert text.endswith("}\n") and "\n  " in text, rel
        if rel.endswith(".schema.json"):
            assert text == json.dumps(json.loads(text), indent=2, sort_keys=True,
                                      ensure_ascii=False) + "\n"


def _schema(name: str) -> dict:
    return json.loads((PUBLISHED / f"{name}.schema.json").read_text("utf-8"))


def test_examples_validate_against_the_schema_and_the_model() -> None:
    validator = jsonschema.Draft202012Validator(_schema("study"))
    minimal = json.loads((PUBLISHED / "examples/study.minimal.json").read_text("utf-8"))
    full = json.loads((PUBLISHED / "examples/study.full.json").read_text("utf-8"))
    assert set(minimal) - {"patient_id", "study_type", "lbbb", "ventilated", "contrast",
                           "agitated_saline"} == {"study_id", "findings_text"}
    for example in (minimal, full):
        validator.validate(example)
        assert Study.model_validate(example).model_dump(mode="json", exclude_none=True) == example


def test_full_example_has_every_block() -> None:
    full = json.loads((PUBLISHED / "examples/study.full.json").read_text("utf-8"))
    for block in ("patient", "measurements", "findings", "prior", "impression", "study_date"):
        assert full.get(block), block
    assert set(full["measurements"]) == set(Measurements.model_fields)
    assert set(FULL_STUDY["findings"]) == set(Study.model_fields["findings"].annotation.__args__[0]
                                              .model_fields)


def test_schema_rejects_what_the_model_rejects() -> None:
    validator = jsonschema.Draft202012Validator(_schema("study"))
    assert not validator.is_valid({"study_id": "S1"})                       # no findings_text
    assert not validator.is_valid({"study_id": "S1", "findings_text": "x", "lvidd": 5})
    assert not validator.is_valid({"study_id": "S1", "findings_text": "x", "study_type": "MRI"})


def test_output_records_validate_against_their_schemas() -> None:
    records = {
        "prediction": Prediction(study_id="S1", mode="template", impression="1. Normal study."),
        "fact": Fact(concept="lv_systolic_function", grade="normal", value=60, unit="%",
                     source="measurements.lvef"),
        "check_result": CheckResult(study_id="S1", statements=[StatementCheck(
            text="Normal.", start=0, end=7, verdict="not_factual", reason="no fact")]),
    }
    for name, record in records.items():
        jsonschema.Draft202012Validator(_schema(name)).validate(record.model_dump(mode="json"))
    assert math.isfinite(records["fact"].value)


def test_export_schemas_command(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["export-schemas", "--out", str(tmp_path / "s")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "s/study.schema.json").is_file()
    assert (tmp_path / "s/examples/study.full.json").is_file()


def test_the_package_re_exports_every_public_name_of_its_modules() -> None:
    import importlib
    import pkgutil

    import echogpt.schemas as package

    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"echogpt.schemas.{info.name}")
        own = {n for n, v in vars(module).items() if not n.startswith("_")
               and getattr(v, "__module__", None) == module.__name__}
        assert own <= set(package.__all__), f"{info.name}: {sorted(own - set(package.__all__))}"
    assert all(hasattr(package, n) for n in package.__all__)
