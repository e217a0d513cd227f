"""Seeded synthetic corpus of echo studies with reference impressions (``echogpt synth``).

Each patient gets a phenotype (resources/synthetic.json); each of their studies is drawn from it
(synthetic_physiology), written up in one of four prose styles and given a numbered impression
(synthetic_text, synthetic_impression). The same seed gives byte-identical files.

    paths = write_corpus("data/synth", n=2000, seed=0)   # train.jsonl, val.jsonl, test.jsonl
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from echogpt.data.splits import patient_fraction
from echogpt.guidelines.diastology import diastolic_function
from echogpt.guidelines.study import grade_study
from echogpt.schemas import DiastolicGrade, Prior, Study
from echogpt.synth.impression import impression_text
from echogpt.synth.physiology import Case, Patient, new_patient, sample_case
from echogpt.synth.spec import phenotypes, spec
from echogpt.synth.text import STYLES, Writer, findings_text, phrases, prose_items

SPLITS = ("train", "val", "test")
_STATED_DD = {"normal", "grade_1", "grade_2", "grade_3", "indeterminate"}


def _drop_missing(rng: random.Random, c: Case) -> None:
    """Leave out measurement groups at random (never one an impression statement relies on)."""
    protected = set(c.protected)
    if c.grades["rv_size"] != "normal":
        protected |= {"rv_basal_diameter", "tapse"}
    if c.grades["ra_size"] != "normal":
        protected.add("ra_area")
    for prob, fields in spec().drop_groups.groups.values():
        if rng.random() < prob and not protected & set(fields):
            for f in fields:
                c.m.pop(f, None)
    if "lvedv" not in c.m:
        c.lvef_method = "visual"
        if c.grades["lvef"] == "normal" and rng.random() < 0.6:
            lo = int(c.m["lvef"] // 5 * 5)
            c.lvef_range = (lo, lo + 5)


def _valve_block(v: dict[str, Any]) -> dict[str, Any] | None:
    out: dict[str, Any] = {"regurgitation": v["regurgitation"] or "none"}
    if v["prosthesis"]:
        return {"prosthesis": v["prosthesis"]}
    if v["stenosis"]:
        out["stenosis"] = v["stenosis"]
    if v["mechanism"]:
        out["mechanism"] = v["mechanism"]
    if v["morphology"]:
        out["morphology"] = v["morphology"]
    return out


def _structured(c: Case) -> tuple[dict[str, Any], dict[str, Any]]:
    """The case's measurements and findings blocks as Study JSON."""
    meas: dict[str, Any] = {k: v for k, v in c.m.items() if k != "lvef"}
    if c.lvef_range:
        meas["lvef"] = {"low": c.lvef_range[0], "high": c.lvef_range[1], "method": "visual"}
    else:
        meas["lvef"] = {"low": c.m["lvef"], "high": c.m["lvef"], "method": c.lvef_method}
    if c.septal_flattening:
        meas["septal_flattening"] = True
    g = c.grades
    f: dict[str, Any] = {name: _valve_block(v) for name, v in c.valves.items()}
    f["lv_size"] = g["lv_size"].replace("_", "-")
    f["la_size"] = g["la_size"].replace("_", "-")
    if g["rv_size"] == "normal":  # a dilated RV is carried by its measurement (no graded scale)
        f.update(rv_size="normal", rv_function="normal")
    if g["ra_size"] == "normal":
        f["ra_size"] = "normal"
    if c.wall_motion:
        f["wall_motion"] = {str(n): x for n, x in c.wall_motion.items()}
    f["effusion"] = ({"size": c.effusion["size"], "location": c.effusion["location"],
                      **{k: v for k, v in c.effusion.items() if k not in ("size", "location")}}
                     if c.effusion else {"size": "none"})
    if c.thrombus:
        f["thrombus"] = [c.thrombus]
    if c.vegetation:
        f["vegetation"] = [c.vegetation]
    if c.hcm:
        f.update(lvot_obstruction=True, sam=True)
    f["image_quality"] = c.image_quality
    return meas, f


def _study(c: Case, rng: random.Random, ids: tuple[str, str], when: date, prior: dict[str, Any] | None,
           profile: str) -> Study:
    """Write one case up: structured blocks, prose in a random style and the impression."""
    p = c.patient
    label = phenotypes()[p.phenotype].label
    base: dict[str, Any] = {
        "study_id": ids[0], "patient_id": ids[1], "study_date": when.isoformat(), "study_type": "TTE",
        "indication": rng.choice(phrases().indications.get(label, phrases().indications["default"])),
        "rhythm": c.rhythm, "phenotype": label, "findings_text": "-",
        "patient": {"age": p.age, "sex": p.sex, "height_cm": p.height_cm, "weight_kg": p.weight_kg,
                    "bsa_m2": p.bsa},
    }
    meas, findings = _structured(c)
    draft = Study.model_validate({**base, "measurements": meas, "findings": findings})
    result = diastolic_function(draft)
    dd = result.grade if result.applicable and result.grade else "not_assessed"
    assert draft.findings is not None
    stated = DiastolicGrade(dd.replace("_", "-")) if dd in _STATED_DD else None
    study = draft.model_copy(update={  # validated once above; only these two parts change
        "findings": draft.findings.model_copy(update={"diastolic_function": stated}),
        "prior": Prior.model_validate({"study_date": prior["date"], "lvef": prior["lvef"],
                                       "impression": prior["impression"]}) if prior else None})
    facts = grade_study(study, profile)  # graded with the findings block, even when it is left out
    w = Writer(rng, c)
    style = STYLES[rng.randrange(len(STYLES))]
    text = findings_text(w, style, prose_items(w, dd, prior))
    impression = impression_text(w, facts, dd, prior, profile)
    update: dict[str, Any] = {"findings_text": text, "impression": impression}
    if rng.random() < spec().population.prose_only_probability:
        update["findings"] = None  # prose-only study: the findings text carries everything
    return study.model_copy(update=update)


def _patient_studies(seed: int, j: int, key: str, count: int, profile: str,
                     first_index: int) -> list[Study]:
    rng = random.Random(f"echogpt-synth:{seed}:{j}")
    pop = spec().population
    patient = new_patient(rng, f"SYNP-{seed}-{j:05d}", key)
    when = pop.first_date + timedelta(days=rng.randrange(pop.days_span))
    out, prior = [], None
    for k in range(count):
        srng = random.Random(f"echogpt-synth:{seed}:{j}:{k}")
        if k:
            when += timedelta(days=30 * srng.randint(*pop.months_between))
            patient.weight_kg = round(min(max(patient.weight_kg + srng.uniform(-4, 4), 35.0), 180.0), 1)
        case = sample_case(srng, phenotypes()[key], patient)
        _drop_missing(srng, case)
        study = _study(case, srng, (f"SYN-{seed}-{first_index + k:06d}", patient.patient_id), when,
                       prior, profile)
        out.append(study)
        m = study.measurements
        assert m is not None and m.lvef is not None and study.impression
        prior = {"date": when.isoformat(), "lvef": m.lvef.model_dump(exclude_none=True),
                 "ef_value": m.lvef.value, "impression": study.impression,
                 "ef_text": m.lvef.text()}
    return out


def generate_corpus(n: int, seed: int, *, profile: str = "default") -> list[Study]:
    """Generate ``n`` synthetic studies (several per patient for some patients).

    Every phenotype of resources/synthetic.json occurs once the corpus has as many patients as there
    are phenotypes; after that phenotypes are drawn by weight.

    Args:
        n: Number of studies.
        seed: Random seed; the same seed gives the same studies.
        profile: Lab profile whose grading words the impressions follow.

    Returns:
        The studies, each valid against :class:`echogpt.schemas.Study`, with ``phenotype`` set.
    """
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    keys = list(phenotypes())
    weights = [phenotypes()[k].weight for k in keys]
    pop = spec().population
    master = random.Random(f"echogpt-synth:{seed}")
    studies: list[Study] = []
    j = 0
    while len(studies) < n:
        key = keys[j] if j < len(keys) else master.choices(keys, weights)[0]
        count = 1
        if master.random() < pop.follow_up_probability:
            count = master.randint(2, pop.max_studies_per_patient)
        count = min(count, n - len(studies))
        studies += _patient_studies(seed, j, key, count, profile, len(studies))
        j += 1
    return studies


def split_by_patient(studies: Sequence[Study], seed: int,
                     fractions: tuple[float, float, float] = (0.8, 0.1, 0.1)) -> dict[str, list[Study]]:
    """Split into train/val/test by patient, with study counts as close to ``fractions`` as whole
    patients allow.

    Patients are ordered by ``echogpt.data.splits.patient_fraction`` (a hash of seed and patient) and
    filled into the splits in turn, so no patient's studies cross splits.

    Args:
        studies: The studies.
        seed: Changes which patients go where.
        fractions: Shares of train, val and test (summing to 1).

    Returns:
        {"train": [...], "val": [...], "test": [...]}, each in input order.
    """
    if len(fractions) != 3 or any(f < 0 for f in fractions) or abs(sum(fractions) - 1) > 1e-6:
        raise ValueError(f"fractions must be three non-negative shares summing to 1, got {fractions}")
    by_patient: dict[str, list[int]] = {}
    for i, s in enumerate(studies):
        by_patient.setdefault(s.patient_id or s.study_id, []).append(i)
    order = sorted(by_patient, key=lambda pid: (patient_fraction(pid, seed), pid))
    bounds = [fractions[0] * len(studies), (fractions[0] + fractions[1]) * len(studies)]
    where: dict[int, str] = {}
    filled = 0
    for pid in order:
        idx = by_patient[pid]
        # a patient goes to the first split whose quota the patient's midpoint has not passed
        mid = filled + len(idx) / 2
        name = SPLITS[0] if mid <= bounds[0] else SPLITS[1] if mid <= bounds[1] else SPLITS[2]
        where.update({i: name for i in idx})
        filled += len(idx)
    out: dict[str, list[Study]] = {name: [] for name in SPLITS}
    for i, s in enumerate(studies):
        out[where[i]].append(s)
    return out


def write_corpus(out_dir: str | Path, n: int = 2000, seed: int = 0, *,
                 profile: str = "default") -> dict[str, Path]:
    """Generate a corpus and write DIR/train.jsonl, val.jsonl and test.jsonl (one Study per line).

    Args:
        out_dir: Folder to write into (created if missing).
        n: Number of studies.
        seed: Random seed (same seed -> byte-identical files).
        profile: Lab profile whose grading words the impressions follow.

    Returns:
        Split name -> path written.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    parts = split_by_patient(generate_corpus(n, seed, profile=profile), seed)
    paths = {}
    for name in SPLITS:
        path = out / f"{name}.jsonl"
        lines = [json.dumps(s.model_dump(mode="json", exclude_none=True), ensure_ascii=False)
                 for s in parts[name]]
        path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
        paths[name] = path
    return paths


__all__ = ["SPLITS", "STYLES", "Patient", "generate_corpus", "split_by_patient", "write_corpus"]
