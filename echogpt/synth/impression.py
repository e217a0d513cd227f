"""The reference impression of a synthetic study: which statements, in which order, in which words.

Statements are ranked by clinical importance (tamponade, thrombus and vegetation first; then LV
function, severe valve disease, ...; comparison and technical caveats last); trace findings never
appear. Grades come from the case's guideline bands and are checked against the guideline engine's
facts where wording could differ (PASP words, normal study).

    text = impression_text(writer, facts, dd="grade_2", prior=None)
"""

from __future__ import annotations

from typing import Any

from echogpt.guidelines.tables import grades_between, load_profile, scale
from echogpt.schemas import Fact
from echogpt.synth.text import Writer, _fill, _morph, _segments, phrases
from echogpt.text import number_statements

_NOT_REDUCED = {"normal", "hyperdynamic", "low_normal"}
_SEVERITY_RANK = {"severe": 1.5, "moderate": 3.0, "mild": 3.3}


def _pasp_word(rvsp: float, profile: str) -> str | None:
    """The PASP grade word every accepted reading of ``rvsp`` agrees on, "elevated" when they
    differ in degree only, None when the value could also read as normal."""
    name = load_profile(profile).scale_name("pasp")
    tol = scale(name).tolerance
    grades = grades_between(name, rvsp - tol, rvsp + tol)
    if "normal" in grades:
        return None
    return grades.pop() if len(grades) == 1 else "elevated"


def impression_items(w: Writer, facts: list[Fact], dd: str, prior: dict[str, Any] | None,
                     profile: str = "default") -> list[tuple[float, str, dict[str, Any]]]:
    """Impression statements of a case as (rank, template key, values); lower rank comes first.

    Args:
        w: The study's writer (case and random choices).
        facts: ``grade_study`` facts of the finished study (to confirm a normal study and PH).
        dd: Diastolic grade the findings state (from the ASE16 algorithm).
        prior: ``{"date", "ef_text", "ef_value"}`` of the previous study, or None.
        profile: Lab profile whose PASP wording is used.

    Returns:
        Unordered items; :func:`impression_text` sorts and words them.
    """
    c, m, g, rng = w.c, w.c.m, w.c.grades, w.rng
    out: list[tuple[float, str, dict[str, Any]]] = []
    concepts = {(f.concept, f.grade) for f in facts}
    # a prosthesis, sclerosis, any lesion or more than trace regurgitation is not a normal study
    normal = ("normal_study", None) in concepts and not (
        c.effusion or c.thrombus or c.vegetation or c.hcm or c.wm_pattern != "normal"
        or any(v["prosthesis"] or v["stenosis"] or v["regurgitation"] not in (None, "none", "trace")
               for v in c.valves.values()))

    def add(rank: float, key: str, **values: Any) -> None:
        out.append((rank, key, values))

    if normal and rng.random() < 0.7:
        add(-1, "normal_study")
    if c.effusion:
        e, width = c.effusion, w.num("effusion_width")
        if e.get("tamponade"):
            add(0, "tamponade", w=width)
        elif e["size"] == "small":
            add(7, "effusion_small", w=width, location=f"{e['location']}")
        else:
            add(0.05 if e["size"] == "large" else 7, "effusion", w=width, size=e["size"],
                location=e["location"])
    if c.thrombus:
        add(0.1, "thrombus", s=f"{c.thrombus['size_cm']:g}",
            mobile=", mobile" if c.thrombus["mobile"] else "")
    if c.vegetation:
        add(0.2, "vegetation", s=f"{c.vegetation['size_cm']:g}", valve=c.vegetation["location"])
    _lv(w, add)
    if c.hcm:
        add(1.2, "hcm", ivsd=w.num("ivsd"), g=w.num("lvot_peak_gradient"))
    elif g["wall"] != "normal":
        if g.get("geometry") == "concentric_hypertrophy":
            add(5.5, "lvh_concentric", wall_adj=w.word("wall_adj", g["wall"]))
        else:
            add(5.5, "lv_wall", wall=w.word("wall", g["wall"]), ivsd=w.num("ivsd"))
    elif g.get("geometry") == "concentric_remodeling" and rng.random() < 0.5:
        add(5.6, "remodeling")
    significant = _valves(w, add)
    if g["rv_size"] != "normal":
        add(4, "rv", tapse=w.num("tapse"))
    elif (normal and rng.random() < 0.5) or (not normal and rng.random() < 0.2):
        add(4.5, "rv_normal")
    if "rvsp" in m:
        word = _pasp_word(m["rvsp"], profile)
        if g["tr"] != "normal" and word:
            add(4.1, "pasp", rvsp=w.num("rvsp"), pword=w.word("pasp", word))
        elif normal and word is None and m["rvsp"] <= 32 and rng.random() < 0.4:
            add(4.1, "pasp_normal", rvsp=w.num("rvsp"))
        if g["tr"] == "high" and ("ph_probability", "high") in concepts:
            add(4.2, "ph_high")
    if dd in ("grade_1", "grade_2", "grade_3") or (dd == "normal" and normal and rng.random() < 0.4):
        add(5, f"dd_{dd}")
    if g["la_size"] != "normal":
        add(6, "la", size=w.word("size_plain", g["la_size"]), size_noun=w.word("size_noun", g["la_size"]),
            lavi=w.num("lavi"))
    if g["ra_size"] != "normal" and g["rv_size"] == "normal" and rng.random() < 0.7:
        add(6.1, "ra")
    root, asc = g["aortic_root"] != "normal", g["ascending_aorta"] != "normal"
    if root or asc:
        key = "aorta_both" if root and asc else "aorta_root" if root else "aorta_asc"
        add(7.1, key, root=w.num("aortic_root"), asc=w.num("ascending_aorta"))
    if not significant and (normal and rng.random() < 0.5 or not normal and rng.random() < 0.2):
        add(3, "valves_none")
    if not c.effusion and (normal and rng.random() < 0.4 or not normal and rng.random() < 0.15):
        add(7, "no_effusion")
    if prior:
        _compare(w, add, prior)
    if c.image_quality == "limited":
        add(9, "limited")
    return out


def _lv(w: Writer, add: Any) -> None:
    c, g = w.c, w.c.grades
    ef, size, grade = w.ef(), g["lv_size"], g["lvef"]
    wm = " with global hypokinesis" if c.wm_pattern == "global" else ""
    function = w.word("function", grade)
    if grade == "normal":
        if size != "normal":
            add(2, "lv_dilated_normal", size=w.word("size_plain", size), ef=ef)
        elif g["wall"] == "normal" and not c.hcm:
            add(2.5, "lv_all_normal", ef=ef)
        else:
            add(2.5, "lv_function_normal", ef=ef)
    elif grade == "low_normal":
        add(2.5, "lv_low_normal", ef=ef)
    elif grade == "hyperdynamic":
        add(2.5, "lv_hyperdynamic", ef=ef)
    elif size != "normal":
        add(1 if grade == "severely_reduced" else 2, "lv_dilated_reduced", size=w.word("size_plain", size),
            function=function, ef=ef, wm=wm.replace(" with ", " and "))
    else:
        add(1 if grade == "severely_reduced" else 2, "lv_reduced", function=function, ef=ef, wm=wm)
    if c.wm_pattern == "regional":
        wg = g["wm_grade"]
        add(2.2, "rwma", wm_noun=w.word("wm_noun", wg), wm_adj=w.word("wm_adj", wg),
            segments=_segments([n for n, x in c.wall_motion.items() if x != "normal"]),
            territory=w.word("territory", c.territory or ""))


def _valves(w: Writer, add: Any) -> bool:
    """Add valve statements; True when any valve has more than trace disease or a prosthesis."""
    c, rng, significant = w.c, w.rng, False
    for order, valve in enumerate(("aortic", "mitral", "tricuspid", "pulmonic")):
        v = c.valves[valve]
        if v["prosthesis"]:
            p = v["prosthesis"]
            grad = (f" (mean gradient {w.num('av_mean_gradient')} mmHg)" if valve == "aortic"
                    else f" (mean gradient {c.derived['prosthesis_gradient']:g} mmHg)")
            add(3.5, "prosthesis", kind=w.word("prosthesis", p["kind"]), valve=valve,
                grad=grad if rng.random() < 0.6 else "")
            significant = True
            continue
        s = v["stenosis"]
        if s == "sclerosis":
            significant = True
            if rng.random() < 0.5:
                add(7.2, "sclerosis")
        elif s and valve == "aortic":
            significant = True
            add(_SEVERITY_RANK[s], "as", grade=s, v=w.num("av_vmax"), mg=w.num("av_mean_gradient"),
                ava=w.num("ava"))
        elif s and valve == "mitral":
            significant = True
            add(_SEVERITY_RANK[s], "ms", grade=s, mva=w.num("mva"), mg=w.num("mv_mean_gradient"))
        r = v["regurgitation"]
        if r in ("mild", "moderate", "severe"):
            significant = True
            if r == "mild" and rng.random() < 0.3:
                continue
            mech_adj, tail = "", ""
            if v["mechanism"] == "secondary":
                mech_adj = rng.choice(("secondary ", "functional "))
            elif v["mechanism"] == "primary" and v["morphology"] and rng.random() < 0.7:
                tail = f" due to {_morph(w, v['morphology'])}"
            add(_SEVERITY_RANK[r] + 0.01 * order, "regurg", grade=r, valve=valve, mech_adj=mech_adj,
                mech_tail=tail)
    return significant


def _compare(w: Writer, add: Any, prior: dict[str, Any]) -> None:
    c = w.c
    current = (sum(c.lvef_range) / 2) if c.lvef_range else c.m["lvef"]
    diff = current - prior["ef_value"]
    # LVEF within 5 points is unchanged (inter-reader variability, ASE15); 4-7 points is left unsaid
    if abs(diff) >= 8:
        # "decreased" to a still-normal EF reads as reduced function: say the numbers only
        key = "compare_neutral" if diff < 0 and c.grades["lvef"] in _NOT_REDUCED else "compare_changed"
        add(8, key, date=prior["date"], prior_ef=prior["ef_text"], ef=w.ef(),
            direction=w.word("direction", "up" if diff > 0 else "down"))
    elif abs(diff) <= 3:
        add(8, "compare_same", date=prior["date"], prior_ef=prior["ef_text"])


def impression_text(w: Writer, facts: list[Fact], dd: str, prior: dict[str, Any] | None,
                    profile: str = "default") -> str:
    """The numbered impression (``1. …`` one statement per line), most important first.

    Args: as :func:`impression_items`.

    Returns:
        The impression text, one template variant per statement picked by ``w.rng``.
    """
    items = sorted(impression_items(w, facts, dd, prior, profile), key=lambda x: x[0])
    bank = phrases().impression
    return number_statements([_fill(w.rng.choice(bank[key]), values) for _, key, values in items])
