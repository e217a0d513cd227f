"""Reader studies from the command line (``echogpt reader-study create|export``), acting as the
local admin, and the ratings as CSV. The records themselves are ``reader.study``'s.

    create_from_file("pilot", "cases.jsonl", ["r1", "r2"]); export_to_file("pilot", "ratings.csv")
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from pathlib import Path

from pydantic import ValidationError

from echogpt.files import csv_safe
from echogpt.reader.design import Design, StudySummary, load_cases
from echogpt.reader.study import create_study, export_ratings
from echogpt.review.accounts import User
from echogpt.review.store import Store


def ratings_csv(rows: Iterable[dict]) -> str:
    """Export rows (``export_ratings``) as CSV text."""
    rows = list(rows)
    buf = io.StringIO()
    fields = list(rows[0]) if rows else ["reader", "case_id", "dimension", "value"]
    writer = csv.DictWriter(buf, fieldnames=fields)
    writer.writeheader()
    writer.writerows({k: csv_safe(v) for k, v in r.items()} for r in rows)
    return buf.getvalue()


def _cli() -> tuple[Store, User]:
    db = Store()
    return db, db.cli_user()


def create_from_file(name: str, cases_file: str | Path, readers: Sequence[str],
                     cases_per_reader: int | None = None, design: str = "preference",
                     pairs: str = "all", reference: str | None = None,
                     seed: int | None = None) -> StudySummary:
    """``create_study`` for the command line, acting as the local admin.

    Args:
        name: Study name.
        cases_file: Cases JSONL.
        readers: Reader account names.
        cases_per_reader: Cases each reader rates (None: all).
        design: ``preference``, ``likert`` or ``both``.
        pairs: ``all`` or ``vs_reference``.
        reference: Reference source.
        seed: Randomisation seed (None: drawn).

    Returns:
        The study summary.
    """
    if design not in ("preference", "likert", "both"):
        raise ValueError(f"design must be preference, likert or both, not '{design}'")
    try:
        d = Design(preference=design != "likert", likert=design != "preference", pairs=pairs,
                   reference=reference)
    except ValidationError as exc:
        raise ValueError(exc.errors()[0]["msg"].removeprefix("Value error, ")) from None
    if not Path(cases_file).is_file():
        raise ValueError(f"no such file: {cases_file}")
    cases = load_cases(cases_file)
    db, admin = _cli()
    try:
        return create_study(db, admin, name, cases,
                            [r.strip() for r in readers if r.strip()], cases_per_reader, d, seed)
    finally:
        db.dispose()


def export_to_file(name: str, out: str | Path) -> int:
    """Write the raw ratings with the unblinding key as CSV (local admin); returns the row count."""
    db, admin = _cli()
    try:
        rows = export_ratings(db, admin, name)
    finally:
        db.dispose()
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text(ratings_csv(rows), encoding="utf-8")
    return len(rows)
