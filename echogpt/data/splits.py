"""Deterministic train/val/test splits by patient: no patient's studies cross splits.

Each patient's split comes from a hash of (seed, patient_id) alone, so adding rows never moves
an existing patient to another split.

    parts = split_by_patient(studies, seed=0)   # {"train": [...], "val": [...], "test": [...]}
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Mapping

from echogpt.schemas import Study

DEFAULT_FRACTIONS: dict[str, float] = {"train": 0.8, "val": 0.1, "test": 0.1}
"""Split names and their share of patients."""


def patient_fraction(patient_id: str, seed: int) -> float:
    """A patient's fixed position in [0, 1) for this seed (first 8 bytes of a SHA-256)."""
    digest = hashlib.sha256(f"{seed}\0{patient_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def split_by_patient(studies: Iterable[Study], seed: int = 0,
                     fractions: Mapping[str, float] | None = None) -> dict[str, list[Study]]:
    """Assign every study to a split by a hash of its patient, keeping input order within splits.

    Args:
        studies: the studies (``patient_id`` defaults to ``study_id`` in :class:`Study`).
        seed: changes the assignment; the same seed always gives the same split.
        fractions: split name -> share of patients, summing to 1 (default 0.8/0.1/0.1).

    Returns:
        Split name -> studies, with every name of ``fractions`` present (possibly empty).

    Raises:
        ValueError: fractions that are negative, not finite, or do not sum to 1.
    """
    fractions = dict(DEFAULT_FRACTIONS if fractions is None else fractions)
    if not fractions or any(not math.isfinite(f) or f < 0 for f in fractions.values()):
        raise ValueError(f"split fractions must be non-negative numbers, got {fractions}")
    if abs(sum(fractions.values()) - 1) > 1e-6:
        raise ValueError(f"split fractions must sum to 1, got {sum(fractions.values()):g}")
    bounds: list[tuple[float, str]] = []
    total = 0.0
    for name, share in fractions.items():
        total += share
        bounds.append((total, name))
    out: dict[str, list[Study]] = {name: [] for name in fractions}
    last = next(name for name in reversed(fractions) if fractions[name] > 0)
    for study in studies:
        x = patient_fraction(study.patient_id or study.study_id, seed)
        name = next((n for b, n in bounds if x < b and fractions[n] > 0), last)
        out[name].append(study)
    return out
