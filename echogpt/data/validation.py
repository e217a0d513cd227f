"""One validation run of a study file, as ``echogpt validate`` does it: import, write rejects, report.

Rejected rows go to the rejects file (JSONL); the guideline engine's consistency warnings are
counted but reject nothing.

    report = validate_file("studies.csv", rejects="rejects.jsonl"); print("\\n".join(report.lines()))
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from echogpt.data.load import ImportResult, RejectedRow, load_studies, write_rejects
from echogpt.files import FileError, write_jsonl
from echogpt.schemas import Study


class ValidationReport(BaseModel):
    """The import result plus what the run wrote and the consistency warnings."""

    model_config = ConfigDict(extra="forbid")
    result: ImportResult
    rejects_path: Path | None = None
    out_path: Path | None = None
    warnings: list[str] | None = None
    """Consistency warnings, or None when the guideline engine offers none."""

    @property
    def exit_code(self) -> int:
        """0 when every row is valid, 1 when some were rejected (CONTRACTS.md)."""
        return 1 if self.result.rejects else 0

    def lines(self, max_reasons: int = 5) -> list[str]:
        """The report as printable lines: counts, the first reasons, files written, warnings."""
        r, c = self.result, self.result.counts
        out = [f"{r.source}: {c['rows']} rows ({r.numbering}): {c['valid']} valid, "
               f"{c['rejected']} rejected"]
        for reject in r.rejects[:max_reasons]:
            out.append(f"  {reject.reason()}")
        if len(r.rejects) > max_reasons:
            out.append(f"  ... and {len(r.rejects) - max_reasons} more")
        if self.rejects_path is not None:
            out.append(f"rejected rows written to {self.rejects_path}")
        if self.out_path is not None:
            out.append(f"valid studies written to {self.out_path}")
        if self.warnings is not None:
            out.append(f"{len(self.warnings)} consistency warning(s) (not rejections)")
            out += [f"  {w}" for w in self.warnings[:max_reasons]]
        return out


def consistency_warnings(studies: list[Study]) -> list[str] | None:
    """The guideline engine's consistency warnings for each study, as ``study_id: message``.

    Returns:
        The warnings, or None when ``echogpt.guidelines.consistency.consistency_warnings`` is not available.
    """
    try:
        from echogpt.guidelines.consistency import consistency_warnings as check
    except ImportError:
        return None
    out = []
    for study in studies:
        for warning in check(study):
            out.append(f"{study.study_id}: {_text(warning)}")
    return out


def _text(warning: Any) -> str:
    return str(getattr(warning, "message", warning))


def default_rejects_path(path: str | Path) -> Path:
    """Where rejects go when no path is given: ``<file>.rejects.jsonl`` beside the input."""
    path = Path(path)
    return path.with_name(path.name + ".rejects.jsonl")


def validate_file(path: str | Path, rejects: str | Path | None = None,
                  mapping: str | Path | None = None, out: str | Path | None = None,
                  check_consistency: bool = True) -> ValidationReport:
    """Import a study file, write its rejected rows and (optionally) its valid studies.

    Args:
        path: the study file (.jsonl, .json, .csv, .tsv, .parquet).
        rejects: rejects file; when None, ``<file>.rejects.jsonl`` is written only if some
            row was rejected. A given path is always written (empty when nothing was rejected).
        mapping: a column-mapping file, or None.
        out: write the valid studies here as canonical JSONL (None: do not write).
        check_consistency: count the guideline engine's consistency warnings.

    Returns:
        The report; ``report.exit_code`` is 0 or 1.

    Raises:
        FileError: the file or mapping cannot be read, or an output cannot be written.
    """
    outputs = [Path(p).resolve() for p in (rejects, out) if p is not None]
    if Path(path).resolve() in outputs or len(set(outputs)) < len(outputs):
        raise FileError("the input, --rejects and --out must be three different files")
    result = load_studies(path, mapping=mapping)
    report = ValidationReport(result=result)
    try:
        if rejects is not None or result.rejects:
            target = Path(rejects) if rejects is not None else default_rejects_path(path)
            report.rejects_path = write_rejects(result.rejects, target)
        if out is not None:
            report.out_path = write_jsonl(result.studies, out, exclude_none=True)
    except OSError as e:
        raise FileError(f"cannot write {e.filename or 'output'}: {e.strerror or e}") from None
    if check_consistency:
        report.warnings = consistency_warnings(result.studies)
    return report


def reject_table(rejects: list[RejectedRow]) -> list[dict[str, Any]]:
    """One flat row per error (row, study_id, field, type, message, value, expected, column),
    for showing rejects as a table.
    """
    return [{"row": r.row, "study_id": r.study_id, **e.model_dump(mode="json")}
            for r in rejects for e in r.errors]

