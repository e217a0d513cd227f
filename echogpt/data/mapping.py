"""Column mappings: how a CSV/Parquet/JSONL column becomes a Study field (with its unit and value map).

A mapping file (JSON or YAML; format in ``data_schemas/README.md``) renames source columns to dotted
Study field paths such as ``measurements.lvidd``; unmapped columns must already be such paths.

    mapping = load_mapping("lab_export.mapping.json"); record, columns = to_record(row, mapping)
"""

from __future__ import annotations

import difflib
import math
import types
import typing
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import PydanticCustomError

from echogpt import units
from echogpt.files import parse_json, parse_yaml
from echogpt.schemas import Study, segment_number

REQUIRED_FIELDS = ("study_id", "findings_text")
"""Study fields every file must provide (CONTRACTS.md: a study with only these two is valid)."""

# Patient fields that read a unit ('1.70 m', '154 lb'); measurement fields take the units of
# their dimension in resources/measurements.json.
_BODY_FIELDS = ("patient.height_cm", "patient.weight_kg")


class MappingError(ValueError):
    """A mapping file or a column header that cannot be used (one-line message)."""


class ColumnSpec(BaseModel):
    """One source column and the Study field it fills."""

    model_config = ConfigDict(extra="forbid")
    column: str = Field(min_length=1, description="Column name in the source file, exactly as written")
    field: str = Field(min_length=1, description="Dotted Study field path, e.g. measurements.lvidd")
    unit: str | None = Field(None, description="Unit of bare numbers in this column, e.g. mm, lb")
    values: dict[str, Any] = Field(default_factory=dict,
                                   description="Source value -> Study value (case-insensitive keys)")


class ColumnMapping(BaseModel):
    """A whole mapping file: column specs, columns to leave out on purpose, CSV delimiter."""

    model_config = ConfigDict(extra="forbid")
    columns: list[ColumnSpec] = Field(default_factory=list)
    ignore: list[str] = Field(default_factory=list,
                              description="Source columns deliberately not imported")
    delimiter: str | None = Field(None, min_length=1, max_length=1,
                                  description="CSV delimiter; default ',' (tab for .tsv)")

    @model_validator(mode="after")
    def _check(self) -> ColumnMapping:
        seen_columns: set[str] = set()
        seen_fields: dict[str, str] = {}
        for spec in self.columns:
            if spec.column in seen_columns:
                raise PydanticCustomError("duplicate", "column '{c}' is mapped twice", {"c": spec.column})
            seen_columns.add(spec.column)
            if spec.field in seen_fields:
                raise PydanticCustomError("duplicate", "field '{f}' is filled by both '{a}' and '{b}'",
                                          {"f": spec.field, "a": seen_fields[spec.field],
                                           "b": spec.column})
            seen_fields[spec.field] = spec.column
            problem = field_path_problem(spec.field)
            if problem:
                raise PydanticCustomError("unknown_field", "column '{c}': {p}",
                                          {"c": spec.column, "p": problem})
            if spec.unit is not None:
                problem = _unit_problem(spec.field, spec.unit)
                if problem:
                    raise PydanticCustomError("unknown_unit", "column '{c}': {p}",
                                              {"c": spec.column, "p": problem})
        both = seen_columns & set(self.ignore)
        if both:
            raise PydanticCustomError("duplicate", "columns both mapped and ignored: {c}",
                                      {"c": ", ".join(sorted(both))})
        return self

    def spec(self, column: str) -> ColumnSpec | None:
        """The spec of a source column, or None when the column is not mapped."""
        return next((s for s in self.columns if s.column == column), None)


def load_mapping(source: str | Path | dict[str, Any] | ColumnMapping) -> ColumnMapping:
    """Read and check a mapping file (``.json``, ``.yaml`` or ``.yml``), dict or mapping.

    Args:
        source: path of the mapping file, or an already-parsed mapping.

    Returns:
        The checked mapping.

    Raises:
        MappingError: unreadable file, unknown keys, unknown Study fields or units.
    """
    if isinstance(source, ColumnMapping):
        return source
    where = "mapping"
    if isinstance(source, str | Path):
        path = Path(source)
        where = f"mapping file {path}"
        try:
            text = path.read_text("utf-8-sig")
        except (OSError, UnicodeDecodeError) as e:
            raise MappingError(f"{where}: cannot read it ({e.__class__.__name__}: {e})") from None
        try:
            source = parse_yaml(text) if path.suffix.lower() in (".yaml", ".yml") else parse_json(text)
        except (ValueError, yaml.YAMLError) as e:
            first = str(e).splitlines()[0] if str(e) else e.__class__.__name__
            raise MappingError(f"{where}: not valid JSON/YAML ({first})") from None
    if not isinstance(source, dict):
        raise MappingError(f"{where}: expected an object with 'columns', got {type(source).__name__}")
    try:
        return ColumnMapping.model_validate(source)
    except ValidationError as e:
        err = e.errors()[0]
        loc = ".".join(str(p) for p in err["loc"])
        more = f" (and {e.error_count() - 1} more)" if e.error_count() > 1 else ""
        raise MappingError(f"{where}: {loc + ': ' if loc else ''}{err['msg']}{more}") from None


# ---------------------------------------------------------------- Study field paths


def _unwrap_model(annotation: Any) -> type[BaseModel] | None:
    """The model inside ``X | None`` (lists and dicts are not descended into)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            found = _unwrap_model(arg)
            if found:
                return found
    return None


def field_path_problem(path: str) -> str | None:
    """Why ``path`` is not a settable Study field path, or None when it is.

    ``findings.wall_motion.<segment>`` takes a segment number or name as its last part.
    """
    parts = path.split(".")
    model: type[BaseModel] = Study
    for i, part in enumerate(parts):
        fields = model.model_fields
        if part not in fields:
            near = difflib.get_close_matches(part, list(fields), n=1)
            hint = f"; did you mean '{'.'.join([*parts[:i], near[0]])}'?" if near else ""
            where = ".".join(parts[:i]) or "Study"
            return f"'{path}' is not a Study field ('{part}' is not a field of {where}){hint}"
        annotation = fields[part].annotation
        rest = parts[i + 1:]
        if not rest:
            return None
        inner = _unwrap_model(annotation)
        if inner is not None:
            model = inner
            continue
        if typing.get_origin(annotation) is dict and len(rest) == 1:
            try:
                segment_number(rest[0])
            except PydanticCustomError as e:
                return f"'{path}': {e}"
            return None
        return f"'{path}': '{'.'.join(parts[:i + 1])}' has no sub-fields"
    return None


def _unit_problem(path: str, unit: str) -> str | None:
    parts = path.split(".")
    name = parts[-1]
    if name == "lvef" and parts[-2:-1] in (["measurements"], ["prior"]):
        return None if unit.strip() == "%" else f"LVEF is in %, not '{unit}'"
    if len(parts) >= 2 and parts[-2] == "measurements" and name in units.table().fields:
        try:
            units.convert(name, 1.0, unit)
        except PydanticCustomError as e:
            return str(e)
        return None
    if path in _BODY_FIELDS:
        probe: dict[str, Any] = {"study_id": "x", "findings_text": "x", "patient": {name: f"1 {unit}"}}
        try:
            Study.model_validate(probe)
        except ValidationError as e:
            bad = [err["msg"] for err in e.errors() if err["type"] == "unknown_unit"]
            if bad:
                return bad[0]
        return None
    return f"'{path}' takes no unit (units apply to measurements and patient height/weight)"


def header_problems(columns: list[str], mapping: ColumnMapping | None) -> list[str]:
    """Problems with a file's column header: unknown columns, missing required fields.

    Args:
        columns: the source column names, in file order.
        mapping: the column mapping, or None for flat dotted Study paths.

    Returns:
        One message per problem (empty when the header is usable).
    """
    problems: list[str] = []
    mapping = mapping or ColumnMapping()
    dupes = sorted({c for c in columns if columns.count(c) > 1})
    if dupes:
        problems.append(f"duplicate column(s) {', '.join(dupes)}")
    targets = set()
    for column in columns:
        if column in mapping.ignore:
            continue
        spec = mapping.spec(column)
        target = spec.field if spec else column
        targets.add(target)
        if spec is None:
            problem = field_path_problem(column)
            if problem:
                problems.append(f"unknown column {problem}; map it or list it under 'ignore' "
                                "in a mapping file")
    for field in REQUIRED_FIELDS:
        if field not in targets:
            source = [s.column for s in mapping.columns if s.field == field]
            via = f" (mapped from '{source[0]}', which is absent)" if source else ""
            problems.append(f"missing required column '{field}'{via}")
    return problems


# ---------------------------------------------------------------- rows


def is_missing(value: Any, empty_is_missing: bool) -> bool:
    """Whether a cell holds no value: None, NaN, or an empty/blank string in tabular files."""
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return empty_is_missing
    return empty_is_missing and isinstance(value, str) and not value.strip()


def _bare_number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return True
    if isinstance(value, str):
        try:
            float(value.replace(",", "."))
        except ValueError:
            return False
        return True
    return False


def to_record(row: dict[str, Any], mapping: ColumnMapping | None, tabular: bool
              ) -> tuple[dict[str, Any], dict[str, str], list[tuple[str, str, str]]]:
    """Turn one source row into a nested Study record.

    Args:
        row: column name -> raw value.
        mapping: the column mapping, or None.
        tabular: True for CSV/Parquet (empty cells are missing; cells holding JSON
            objects or arrays are parsed), False for JSONL objects.

    Returns:
        ``(record, columns, conflicts)``: the nested record, Study field path -> source column,
        and ``(field, column, message)`` for columns that collide on one field.
    """
    record: dict[str, Any] = {}
    columns: dict[str, str] = {}
    conflicts: list[tuple[str, str, str]] = []
    for column, value in row.items():
        if mapping and column in mapping.ignore:
            continue
        if is_missing(value, empty_is_missing=tabular):
            continue
        spec = mapping.spec(column) if mapping else None
        field = spec.field if spec else column
        if spec and spec.values and isinstance(value, str | int | float | bool):
            lookup = {str(k).strip().lower(): v for k, v in spec.values.items()}
            value = lookup.get(str(value).strip().lower(), value)
        if spec and spec.unit and _bare_number(value):
            value = f"{value} {spec.unit}"
        if tabular and isinstance(value, str) and value.lstrip()[:1] in ("{", "["):
            try:
                value = parse_json(value)
            except ValueError:
                pass  # left as text: validation reports it against the field
        clash = _set_path(record, field.split("."), value)
        if clash:
            earlier = next((c for f, c in columns.items()
                            if clash == f or clash.startswith(f + ".") or f.startswith(clash + ".")),
                           clash)
            conflicts.append((field, str(column), f"columns '{earlier}' and '{column}' both set "
                              f"{clash}"))
        else:
            columns[field] = str(column)
    return record, columns, conflicts


def _set_path(record: dict[str, Any], parts: list[str], value: Any) -> str | None:
    """Set a nested value; on a collision return the path already holding a value.

    Dicts along the path are copied before they change, so the raw row is never modified.
    """
    node = record
    for i, part in enumerate(parts[:-1]):
        child = node.get(part, {})
        if not isinstance(child, dict):
            return ".".join(parts[:i + 1])
        node[part] = child = dict(child)
        node = child
    last = parts[-1]
    if last in node:
        if isinstance(node[last], dict) and isinstance(value, dict) and not set(node[last]) & set(value):
            node[last] = {**node[last], **value}
            return None
        return ".".join(parts)
    node[last] = value
    return None
