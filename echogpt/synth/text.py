"""Words of the synthetic corpus: findings prose in four styles and the reference impression.

Templates and word banks are data (``resources/synthetic_phrases.json``); this module picks the
items a case has, fills their templates and orders impression statements by clinical importance
(critical findings first, trace findings left out).

    w = Writer(rng, case); text = findings_text(w, "terse", prior); impression = impression_text(w, ...)
"""

from __future__ import annotations

import json
import random
from functools import cache
from importlib import resources
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from echogpt import units
from echogpt.schemas import SEGMENTS
from echogpt.synth.physiology import Case

STYLES: tuple[str, ...] = ("by-structure", "narrative", "terse", "label-value")
"""Findings prose styles: full sentences under structure headers, one narrative paragraph,
telegraphic lines with abbreviations, and "Label: value" lines."""

Form = Literal["sentence", "terse", "label"]


class Phrases(BaseModel):
    """resources/synthetic_phrases.json."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    about: str = Field(alias="_about")
    words: dict[str, dict[str, Any]]
    headers: dict[str, list[str]]
    terse_headers: dict[str, str]
    prose: dict[str, dict[Form, list[str]]]
    impression: dict[str, list[str]]
    indications: dict[str, list[str]]


@cache
def phrases() -> Phrases:
    """The validated phrase banks (cached)."""
    text = resources.files("echogpt.resources").joinpath("synthetic_phrases.json").read_text("utf-8")
    return Phrases.model_validate(json.loads(text))


_ABBR = {"aortic": "AR", "mitral": "MR", "tricuspid": "TR", "pulmonic": "PR"}
_UNIT = {"mL/m2": "mL/m²", "cm2": "cm²", "": ""}


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _fill(template: str, values: dict[str, Any]) -> str:
    full = dict(values)
    for key, value in values.items():
        if isinstance(value, str):
            full.setdefault(_cap(key), _cap(value))
    return _cap(template.format_map(full))


class Writer:
    """The per-study random choices made while writing (percent spacing, word variants)."""

    def __init__(self, rng: random.Random, case: Case) -> None:
        self.rng, self.c = rng, case
        self.pct = rng.choice((" %", "%"))

    def word(self, bank: str, key: str) -> str:
        """One variant of the word for ``key`` in word bank ``bank``."""
        entry = phrases().words[bank][key]
        return entry if isinstance(entry, str) else self.rng.choice(entry)

    def num(self, field: str) -> str:
        """A measurement as printed ("5.2"), from the case's canonical value."""
        return f"{self.c.m[field]:g}"

    def ef(self) -> str:
        """The LVEF as printed: "35 %" or a visual range "55-60 %"."""
        if self.c.lvef_range:
            lo, hi = self.c.lvef_range
            return f"{lo}-{hi}{self.pct}"
        return f"{self.c.m['lvef']:g}{self.pct}"

    def dims(self, fields: list[str]) -> str:
        """A bracketed list of the given measurements that are present: " (LVIDd 5.2 cm, ...)"."""
        parts = []
        for f in fields:
            if f in self.c.m:
                s = units.spec(f)
                parts.append(f"{s.label} {self.num(f)} {_UNIT.get(s.unit, s.unit)}".rstrip())
        return f" ({', '.join(parts)})" if parts else ""


def _segments(numbers: list[int]) -> str:
    names = [SEGMENTS[n - 1] for n in sorted(numbers) if n != 17]
    text = ", ".join(names[:-1]) + (" and " if len(names) > 1 else "") + (names[-1] if names else "")
    text = f"{text} segments" if names else ""
    if 17 in numbers:
        text = f"{text} and the apex" if text else "apex"
    return text


def _morph(w: Writer, morphology: list[str]) -> str:
    return " and ".join(w.word("morph", m) for m in morphology)


# ---------------------------------------------------------------- findings prose


def prose_items(w: Writer, dd: str,
                prior: dict[str, Any] | None) -> list[tuple[str, str, dict[str, Any]]]:
    """The findings of a case as (structure group, template key, values), in report order (ASE02).

    Args:
        w: The study's writer (case and random choices); only measurements still in ``w.c.m``
            (not left out) are written.
        dd: Diastolic grade from the ASE16 algorithm, or "not_assessed".
        prior: ``{"date", "ef_text", ...}`` of the previous study, or None.

    Returns:
        Items to render with :func:`findings_text`; trace findings are included here.
    """
    c, m, out = w.c, w.c.m, []

    def add(group: str, key: str, **values: Any) -> None:
        out.append((group, key, values))

    size = c.grades["lv_size"]
    add("lv", "lv_size", size=w.word("size", size), size_plain=w.word("size_plain", size),
        dims=w.dims(["lvidd", "lvids"]))
    if c.hcm:
        add("lv", "lv_wall_hcm", ivsd=w.num("ivsd"), lvpwd=w.num("lvpwd"))
    else:
        geo = ""
        if c.grades["wall"] != "normal" or w.rng.random() < 0.3:
            geo = f"; LV mass index {c.derived['lvmi']:g} g/m², RWT {c.derived['rwt']:g}"
            if "geometry" in c.grades:
                geo += f" ({c.grades['geometry'].replace('_', ' ')})"
        add("lv", "lv_wall", wall=w.word("wall", c.grades["wall"]), dims=w.dims(["ivsd", "lvpwd"]), geo=geo)
    method = {"biplane": (" by biplane Simpson's method", " (biplane)"),
              "visual": (", visually estimated", " (visual)")}[c.lvef_method]
    vols = f" (EDV {w.num('lvedv')} mL, ESV {w.num('lvesv')} mL)" if "lvedv" in m else ""
    add("lv", "lvef", function=w.word("function", c.grades["lvef"]), ef=w.ef(), method=method[0],
        method_short=method[1], vols=vols)
    if c.wm_pattern == "regional":
        grade = c.grades["wm_grade"]
        add("lv", "wm_regional", wm_noun=w.word("wm_noun", grade), wm_adj=w.word("wm_adj", grade),
            segments=_segments([n for n, g in c.wall_motion.items() if g != "normal"]),
            territory=w.word("territory", c.territory or ""))
    else:
        add("lv", f"wm_{c.wm_pattern}")
    doppler = []
    for f, label, unit in (("e_velocity", "E", "cm/s"), ("a_velocity", "A", "cm/s")):
        if f in m:
            doppler.append(f"{label} {w.num(f)} {unit}")
    if "e_velocity" in m and "a_velocity" in m:
        doppler.append(f"E/A {c.derived['e_over_a']:g}")
    for f, label in (("e_prime_septal", "septal e'"), ("e_prime_lateral", "lateral e'")):
        if f in m:
            doppler.append(f"{label} {w.num(f)} cm/s")
    if "e_velocity" in m and "e_prime_septal" in m:
        doppler.append(f"average E/e' {c.derived['e_over_e_prime']:g}")
    doppler_text = f" ({', '.join(doppler)})" if doppler else ""
    if dd == "not_assessed":
        mv = c.valves["mitral"]
        mitral = mv["stenosis"] or mv["prosthesis"] or mv["regurgitation"] in ("moderate", "severe")
        why = " (atrial fibrillation)" if c.rhythm != "sinus" else " (mitral valve disease)" if mitral else ""
        add("lv", "diastolic_na", why=why, doppler=doppler_text)
    else:
        add("lv", "diastolic", dd=w.word("dd", dd), dd_short=w.word("dd_short", dd), doppler=doppler_text)
    if c.hcm:
        add("lv", "lvot", g=w.num("lvot_peak_gradient"))
    if c.thrombus:
        add("lv", "thrombus", s=f"{c.thrombus['size_cm']:g}",
            mobile="mobile " if c.thrombus["mobile"] else "")
    rv = c.grades["rv_size"]
    add("rv", "rv_size", size=w.word("size", rv), size_plain=w.word("size_plain", rv),
        dims=w.dims(["rv_basal_diameter"]))
    tapse = f" (TAPSE {w.num('tapse')} cm)" if "tapse" in m else ""
    add("rv", "rv_function", function=w.word("function", c.grades["rv_function"]), tapse=tapse)
    if c.septal_flattening:
        add("rv", "septal_flattening")
    la = c.grades["la_size"]
    add("atria", "la_size", size=w.word("size", la), size_plain=w.word("size_plain", la),
        dims=w.dims(["la_volume", "lavi", "la_diameter"]))
    ra = c.grades["ra_size"]
    add("atria", "ra_size", size=w.word("size", ra), size_plain=w.word("size_plain", ra),
        dims=w.dims(["ra_area"]))
    for valve in ("aortic", "mitral", "tricuspid", "pulmonic"):
        out += _valve_items(w, valve)
    if c.effusion:
        e = c.effusion
        tamp = ""
        if e.get("tamponade"):
            tamp = (", with right atrial and right ventricular diastolic collapse, a plethoric IVC "
                    "and exaggerated respiratory variation of mitral inflow, consistent with tamponade "
                    "physiology")
        elif e["size"] != "small":
            tamp = ", without chamber collapse"
        add("pericardium", "effusion", size=e["size"], location=e["location"], w=w.num("effusion_width"),
            tamp=tamp)
    else:
        add("pericardium", "effusion_none")
    if "aortic_root" in m:
        add("aorta", "aorta", root=w.num("aortic_root"), asc=w.num("ascending_aorta"),
            root_grade=c.grades["aortic_root"], asc_grade=c.grades["ascending_aorta"])
    if "ivc_diameter" in m:
        add("ivc", "ivc", d=w.num("ivc_diameter"), c=w.num("ivc_collapse"), rap=w.num("rap"))
    else:
        add("ivc", "ivc_missing", rap=w.num("rap"))
    hr = f" (heart rate {w.num('heart_rate')} bpm)" if "heart_rate" in m else ""
    add("other", "rhythm", rhythm="sinus rhythm" if c.rhythm == "sinus" else "atrial fibrillation", hr=hr)
    add("other", "quality", quality=w.word("quality", c.image_quality))
    if prior:
        add("comparison", "comparison", date=prior["date"], prior_ef=prior["ef_text"])
    return out


def _valve_items(w: Writer, valve: str) -> list[tuple[str, str, dict[str, Any]]]:
    c, m = w.c, w.c.m
    v = c.valves[valve]
    out: list[tuple[str, str, dict[str, Any]]] = []
    base = {"valve": valve, "abbr": _ABBR[valve]}
    if v["prosthesis"]:
        p = v["prosthesis"]
        grad = (f" (peak velocity {w.num('av_vmax')} m/s, mean gradient {w.num('av_mean_gradient')} mmHg)"
                if valve == "aortic" and "av_vmax" in m
                else f" (mean gradient {c.derived['prosthesis_gradient']:g} mmHg)")
        out.append((valve, "prosthesis", {**base, "kind": w.word("prosthesis", p["kind"]), "grad": grad}))
        if p.get("paravalvular_leak"):
            out.append((valve, "pvl", base))
    else:
        if v["morphology"]:
            out.append((valve, "valve_morph", {**base, "morph": _morph(w, v["morphology"])}))
        elif not v["stenosis"] and v["regurgitation"] in (None, "none", "trace") and w.rng.random() < 0.6:
            out.append((valve, "valve_normal", base))
        if v["stenosis"] == "sclerosis":
            out.append((valve, "sclerosis", {**base, "v": w.num("av_vmax")}))
        elif v["stenosis"] and valve == "aortic":
            ava = f", AVA {w.num('ava')} cm²" if "ava" in m else ""
            out.append((valve, "as", {**base, "grade": v["stenosis"], "v": w.num("av_vmax"),
                                      "pg": w.num("av_peak_gradient"), "mg": w.num("av_mean_gradient"),
                                      "ava": ava}))
        elif v["stenosis"] and valve == "mitral":
            out.append((valve, "ms", {**base, "grade": v["stenosis"], "mva": w.num("mva"),
                                      "pht": w.num("mv_pht"), "mg": w.num("mv_mean_gradient"),
                                      "hr": w.num("heart_rate") if "heart_rate" in m else "the recorded"}))
        r = v["regurgitation"]
        if r in (None, "none"):
            if valve != "pulmonic" or w.rng.random() < 0.5:
                out.append((valve, "no_regurg", base))
        else:
            mech = ""
            if v["mechanism"] == "primary" and v["morphology"]:
                mech = f" due to {_morph(w, v['morphology'])}"
            elif v["mechanism"] == "secondary":
                mech = " (secondary, functional)"
            out.append((valve, "regurg", {**base, "grade": w.word("regurg", r), "mech": mech}))
    if c.vegetation and c.vegetation["location"] == valve:
        out.append((valve, "vegetation", {**base, "s": f"{c.vegetation['size_cm']:g}"}))
    if valve == "tricuspid":
        if "tr_vmax" in m:
            out.append((valve, "tr_velocity", {"v": w.num("tr_vmax"), "rvsp": w.num("rvsp"),
                                               "rap": w.num("rap")}))
        else:
            out.append((valve, "tr_missing", {}))
    return out


def findings_text(w: Writer, style: str, items: list[tuple[str, str, dict[str, Any]]]) -> str:
    """Render findings items as prose.

    Args:
        w: The study's writer (its random source picks each template variant).
        style: One of :data:`STYLES`.
        items: From :func:`prose_items`.

    Returns:
        The findings text: header lines by structure, one paragraph, telegraphic lines or
        "Label: value" lines.
    """
    ph, rng = phrases(), w.rng
    form: Form = {"by-structure": "sentence", "narrative": "sentence", "terse": "terse",
                  "label-value": "label"}[style]  # type: ignore[assignment]
    rendered = [(g, _fill(rng.choice(ph.prose[k][form]), v)) for g, k, v in items]
    if style == "narrative":
        return " ".join(text for _, text in rendered)
    if style == "label-value":
        return "\n".join(text for _, text in rendered)
    groups: dict[str, list[str]] = {}
    for g, text in rendered:
        groups.setdefault(g, []).append(text)
    if style == "terse":
        def low(t: str) -> str:  # fragments start lower-case unless they open with an abbreviation
            return t if t[:2].isupper() else t[:1].lower() + t[1:]

        return "\n".join(f"{ph.terse_headers[g]}: {'; '.join(low(t) for t in texts)}."
                         for g, texts in groups.items())
    upper = rng.random() < 0.5
    return "\n".join(f"{ph.headers[g][0 if upper else 1]}: {' '.join(texts)}" for g, texts in groups.items())
