"""The evaluation report as one self-contained HTML page (plots embedded as PNG).

Written for a cardiologist: plain labels, a short "how to read this", the comparison table,
head-to-head win rates, and where each system fails (phenotypes, critical findings).

    Path("report.html").write_text(render_report(json.loads(Path("metrics.json").read_text())))
"""

from __future__ import annotations

import base64
import html
import io
import math
import textwrap
from typing import Any

KEY_METRICS = ("fact_f1", "hallucination_rate", "critical_omission", "rougeL", "bertscore_f1",
               "stopped")
"""Metrics plotted and used for the breakdowns, in order of clinical weight."""

HOW_TO_READ = """
<ul>
<li><b>Clinical-fact F1</b>: how many clinical facts (EF, valve grades, effusion, thrombus ...) of the
reference impression the draft reproduces, and how few it adds; 1 = the same facts.</li>
<li><b>Hallucinated statements</b>: share of draft statements the checker finds contradicted by, or
absent from, the study itself. <b>Critical finding omitted</b>: share of studies whose draft leaves
out a critical finding (tamponade, thrombus, vegetation, severe valve disease ...). Lower is better.</li>
<li><b>ROUGE, BLEU, BERTScore</b>: word and meaning overlap with the reference; they reward wording
and can stay high when a number or a grade is wrong, so read them after the clinical rows.</li>
<li>Each value is a mean over studies with its <b>95 % confidence interval</b> in brackets
(bootstrap); intervals that overlap widely mean the data cannot separate the systems.</li>
<li><b>Head to head</b>: on how many of the same studies system A scored better than B, worse, or
the same, with the Wilcoxon signed-rank p-value (Holm-adjusted across system pairs).</li>
</ul>
"""

STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:2em auto;
max-width:1100px;color:#222;line-height:1.4}
table{border-collapse:collapse;margin:1em 0;font-size:14px}
th,td{border:1px solid #ccc;padding:4px 8px;text-align:right}
th:first-child,td:first-child{text-align:left}
th{background:#f3f3f3} .best{font-weight:bold;background:#eef7ee} .note{color:#666;font-size:13px}
img{max-width:100%}
"""


def _fmt(v: Any, scale: str = "0-1") -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    if scale == "0-100" or scale == "count":
        return f"{v:.1f}"
    return f"{v:.3f}"


def _percent(share: float | None) -> str:
    return "–" if share is None else f"{100 * share:.0f} %"


def _png(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return f'<img alt="plot" src="data:image/png;base64,{base64.b64encode(buf.getvalue()).decode()}">'


def _means_plot(result: dict[str, Any]) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cols = [c for c in KEY_METRICS if c in result["columns"]]
    if not cols:
        return ""
    systems = result["systems"]
    fig, axes = plt.subplots(1, len(cols), figsize=(3.2 * len(cols), 0.5 * len(systems) + 1.6),
                             squeeze=False)
    for ax, c in zip(axes[0], cols, strict=True):
        means, lows, highs = [], [], []
        for s in systems:
            cell = result["summary"][s][c]
            m = cell["mean"] if cell["mean"] is not None else math.nan
            means.append(m)
            lows.append(m - cell["ci_low"] if cell["ci_low"] is not None else 0)
            highs.append(cell["ci_high"] - m if cell["ci_high"] is not None else 0)
        ax.barh(range(len(systems)), means, xerr=[lows, highs], color="#6a9fd4", capsize=3)
        ax.set_yticks(range(len(systems)), systems if ax is axes[0][0] else [""] * len(systems))
        ax.invert_yaxis()
        info = result["columns"][c]
        arrow = "higher is better" if info["higher_is_better"] else "lower is better"
        ax.set_title("\n".join(textwrap.wrap(info["label"], 26)) + f"\n({arrow})", fontsize=9)
        for i, m in enumerate(means):
            if not math.isnan(m):
                ax.annotate(_fmt(m, info["scale"]), (0, i), xytext=(3, 0), textcoords="offset points",
                            va="center", fontsize=8)
        if info["scale"] == "0-1":
            ax.set_xlim(0, 1)
    return _png(fig)


def _win_plot(result: dict[str, Any], metric: str) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pairs = [p for p in result["pairwise"] if p["metric"] == metric and "wins" in p]
    if not pairs:
        return ""
    fig, ax = plt.subplots(figsize=(7, 0.45 * len(pairs) + 1.2))
    labels = [f"{p['a']} vs {p['b']}" for p in pairs]
    wins = [p["win_rate"] for p in pairs]
    ties = [p["tie_rate"] for p in pairs]
    losses = [p["loss_rate"] for p in pairs]
    y = range(len(pairs))
    ax.barh(y, wins, color="#4c9a5f", label="first-named system better")
    ax.barh(y, ties, left=wins, color="#cccccc", label="same score")
    ax.barh(y, losses, left=[w + t for w, t in zip(wins, ties, strict=True)], color="#c0504d",
            label="second-named system better")
    ax.set_yticks(list(y), labels)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel(f"share of studies ({result['columns'][metric]['label']})")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.35 if len(pairs) < 3 else -0.15), ncol=3,
              fontsize=8, frameon=False)
    return _png(fig)


def _summary_table(result: dict[str, Any]) -> str:
    systems = result["systems"]
    head = "".join(f"<th>{html.escape(s)}</th>" for s in systems)
    rows = []
    for c, info in result["columns"].items():
        means = [result["summary"][s][c]["mean"] for s in systems]
        finite = [m for m in means if m is not None and not math.isnan(m)]
        best = None
        if info["higher_is_better"] is not None and len(finite) > 1:
            best = max(finite) if info["higher_is_better"] else min(finite)
        cells = []
        for s, m in zip(systems, means, strict=True):
            cell = result["summary"][s][c]
            text = (f"{_fmt(m, info['scale'])} <span class='note'>({_fmt(cell['ci_low'], info['scale'])}"
                    f"–{_fmt(cell['ci_high'], info['scale'])})</span>")
            cls = " class='best'" if best is not None and m == best else ""
            cells.append(f"<td{cls}>{text}</td>")
        arrow = {True: " ↑", False: " ↓", None: ""}[info["higher_is_better"]]
        rows.append(f"<tr><td>{html.escape(info['label'])}{arrow}</td>{''.join(cells)}</tr>")
    return f"<table><tr><th>Measure</th>{head}</tr>{''.join(rows)}</table>"


def _pairwise_table(result: dict[str, Any]) -> str:
    cols = [c for c in KEY_METRICS if c in result["columns"]]
    rows = []
    for p in result["pairwise"]:
        if p["metric"] not in cols or "wins" not in p:
            continue
        info = result["columns"][p["metric"]]
        rows.append(
            f"<tr><td>{html.escape(p['a'])} vs {html.escape(p['b'])}</td>"
            f"<td>{html.escape(info['label'])}</td>"
            f"<td>{p['wins']} ({_fmt(100 * p['win_rate'], 'count')} %)</td>"
            f"<td>{p['losses']} ({_fmt(100 * p['loss_rate'], 'count')} %)</td>"
            f"<td>{p['ties']} ({_fmt(100 * p['tie_rate'], 'count')} %)</td>"
            f"<td>{_fmt(p['diff'], info['scale'])} ({_fmt(p['diff_ci_low'], info['scale'])} to "
            f"{_fmt(p['diff_ci_high'], info['scale'])})</td>"
            f"<td>{_fmt(p.get('p_holm'), '0-1')}</td></tr>")
    if not rows:
        return "<p class='note'>One system only: no head-to-head comparison.</p>"
    return ("<table><tr><th>A vs B</th><th>Measure</th><th>A better</th><th>B better</th><th>Same</th>"
            "<th>Mean difference A − B (95 % CI)</th><th>p (Holm)</th></tr>" + "".join(rows) + "</table>")


def _breakdown_tables(result: dict[str, Any], primary: str | None) -> str:
    systems = result["systems"]
    head = "".join(f"<th>{html.escape(s)}</th>" for s in systems)
    parts = []
    if primary:
        label = result["columns"][primary]["label"]
        scale = result["columns"][primary]["scale"]
        rows = "".join(
            f"<tr><td>{html.escape(ph)} (n={d['n']})</td>"
            + "".join(f"<td>{_fmt(d[s].get(primary), scale)}</td>" for s in systems) + "</tr>"
            for ph, d in result["by_phenotype"].items())
        parts.append(f"<h2>By phenotype: {html.escape(label)}</h2>"
                     f"<table><tr><th>Phenotype</th>{head}</tr>{rows}</table>")
    findings = result.get("by_critical_finding") or {}
    if findings:
        rows = "".join(
            f"<tr><td>{html.escape(f.replace('_', ' '))} (n={d['n']})</td>"
            + "".join(f"<td>{_percent(d[s].get('omitted_share'))}</td>" for s in systems) + "</tr>"
            for f, d in findings.items())
        parts.append("<h2>Critical findings: how often each system left them out</h2>"
                     "<p class='note'>Among studies that have the finding; lower is better.</p>"
                     f"<table><tr><th>Finding</th>{head}</tr>{rows}</table>")
    return "".join(parts)


def render_report(result: dict[str, Any]) -> str:
    """The HTML page for the content of metrics.json (see ``echogpt.evaluation.suite.evaluate``)."""
    primary = next((c for c in ("fact_f1", "hallucination_rate", "rougeL") if c in result["columns"]),
                   None)
    cfg = result["config"]
    skipped = "".join(f"<li>{html.escape(k)}: {html.escape(v)}</li>" for k, v in result["skipped"].items())
    missing = ", ".join(f"{html.escape(k)}: {v}" for k, v in result["missing_predictions"].items())
    win = _win_plot(result, primary) if primary else ""
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>EchoGPT evaluation</title>
<style>{STYLE}</style></head><body>
<h1>EchoGPT evaluation: {html.escape(', '.join(result['systems']))}</h1>
<p>{result['n_studies']} studies, each drafted by every system. Studies without a draft from a
system: {missing}.</p>
<h2>How to read this</h2>{HOW_TO_READ}
<h2>Systems side by side</h2>
<p class='note'>Mean (95 % CI). ↑ higher is better, ↓ lower is better; the best system per row is shaded.</p>
{_summary_table(result)}
{_means_plot(result)}
<h2>Head to head</h2>{_pairwise_table(result)}{win}
{_breakdown_tables(result, primary)}
<h2>Run details</h2>
<p class='note'>Studies {html.escape(cfg['studies'])} (sha256 {cfg['studies_hash'][:12]}…);
bootstrap {cfg['n_boot']} resamples, seed {cfg['seed']};
checker profile {html.escape(cfg['profile'])};
BERTScore encoder {html.escape(str(cfg['bertscore_model']))};
EchoGPT {html.escape(cfg['echogpt_version'])}.</p>
{f"<p>Metrics not computed:</p><ul>{skipped}</ul>" if skipped else ""}
</body></html>
"""
