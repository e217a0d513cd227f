"""A store on SQLite with one cardiologist and one study taken through draft, approval and signature.

    world = signed_world(tmp_path); world.db, world.doc, world.study
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from echogpt.schemas import CheckResult, StatementCheck, Study

MODEL = "embedded:smollm2-135m-instruct"
IMPRESSION = ("1. Normal left ventricular size with mildly reduced systolic function.\n"
              "2. Mild mitral regurgitation.")


def echo_study(study_id: str = "1.2.826.0.1.3680043.8.498.77") -> Study:
    return Study.model_validate({
        "study_id": study_id, "patient_id": "PAT-77", "study_date": "2025-03-04",
        "patient": {"age": 71, "sex": "male", "height_cm": 178, "weight_kg": 82},
        "measurements": {"lvef": "45-50", "lvidd": "5.4 cm", "ivsd": 1.1, "lvpwd": 1.0, "tapse": 2.1,
                         "tr_vmax": 2.6, "e_velocity": 80, "la_volume": 62, "rv_lv_ratio": 0.8},
        "findings_text": "Normal LV size. LVEF 45-50% by biplane. Mild MR. Normal RV function.",
    })


@dataclass
class World:
    db: object
    doc: object
    admin: object
    study: Study
    report_id: int


def approved_world(tmp_path: Path, monkeypatch, sign: bool = True) -> World:
    from argon2 import PasswordHasher

    from echogpt.review import accounts
    from echogpt.review.store import Store

    monkeypatch.setattr(accounts, "_HASHER", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    db = Store(f"sqlite:///{tmp_path / 'echogpt.sqlite'}")
    admin = db.add_user(db.cli_user(), "admin-1", "admin", "admin-password")
    doc = db.add_user(admin, "dr-lee", "cardiologist", "doc-password")
    st = echo_study()
    db.create_study(doc, st)
    check = CheckResult(study_id=st.study_id, statements=[StatementCheck(
        text="Normal LV size.", start=0, end=15, verdict="supported", reason="test")])
    d = db.save_draft(doc, st.study_id, IMPRESSION, MODEL, None, "h1", check)
    rep = db.approve(doc, d.id, d.version)
    if sign:
        db.sign(doc, rep.id, rep.version)
    return World(db, doc, admin, st, rep.id)
