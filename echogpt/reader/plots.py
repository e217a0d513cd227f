"""The plots of a reader-study analysis, as PNGs for the analysis page and the analysis folder:
preference distributions per pair, Likert means with 95% CIs, per-reader mean preference.

    paths = plot_analysis(analyze(db, admin, "pilot"), Path("/tmp/plots"))
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from echogpt.reader.stats import Analysis


def plot_analysis(result: Analysis, out_dir: str | Path) -> list[Path]:
    """Save the analysis plots as PNGs: preference distributions per pair, Likert means with 95%
    CIs, per-reader mean preference. Returns the paths written."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    colors = ["#b2182b", "#ef8a62", "#d9d9d9", "#67a9cf", "#2166ac"]
    for pair in [k for k in result.distributions if " vs " in k]:
        by_dim = result.distributions[pair]
        dims = list(by_dim)
        fig, ax = plt.subplots(figsize=(7, 0.6 * len(dims) + 1.6))
        left = np.zeros(len(dims))
        a, b = pair.split(" vs ", 1)
        labels = [f"{a} much better", f"{a} better", "no preference", f"{b} better", f"{b} much better"]
        for val, col, lab in zip(("-2", "-1", "0", "1", "2"), colors, labels, strict=True):
            n = np.array([by_dim[d].get(val, 0) for d in dims], float)
            share = n / np.maximum(1, [sum(by_dim[d].values()) for d in dims])
            ax.barh(dims, share, left=left, color=col, label=lab)
            left += share
        ax.set_xlim(0, 1)
        ax.set_xlabel("share of ratings")
        ax.set_title(f"Preference, {pair}")
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.25), ncol=3, fontsize=7)
        fig.tight_layout()
        path = out / f"preference_{_slug(pair)}.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        paths.append(path)
    if result.likert:
        fig, ax = plt.subplots(figsize=(7, 3.2))
        srcs = sorted({r["source"] for r in result.likert})
        dims = list(dict.fromkeys(r["dimension"] for r in result.likert))
        width = 0.8 / max(1, len(srcs))
        for i, src in enumerate(srcs):
            rows = {r["dimension"]: r for r in result.likert if r["source"] == src}
            means = [rows[d]["mean"] if d in rows else np.nan for d in dims]
            err = [[m - rows[d]["ci_low"] for d, m in zip(dims, means, strict=True)],
                   [rows[d]["ci_high"] - m for d, m in zip(dims, means, strict=True)]]
            ax.bar(np.arange(len(dims)) + i * width, means, width, yerr=err, capsize=3, label=src)
        ax.set_xticks(np.arange(len(dims)) + width * (len(srcs) - 1) / 2, dims)
        ax.set_ylim(1, 5)
        ax.set_ylabel("mean Likert (95% CI)")
        ax.legend(fontsize=7)
        fig.tight_layout()
        path = out / "likert_means.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        paths.append(path)
    pr = [r for r in result.per_reader if r["kind"] == "A vs B"]
    if pr:
        dims = [d for d in pr[0] if d not in ("reader", "kind", "about")]
        labels = [f"{r['reader']}: {r['about']}" for r in pr]
        fig, ax = plt.subplots(figsize=(7, max(3.2, 0.16 * len(labels) + 1.4)))
        data = np.array([[np.nan if r[d] is None else r[d] for d in dims] for r in pr], float)
        im = ax.imshow(data, cmap="RdBu", vmin=-2, vmax=2, aspect="auto")
        ax.set_xticks(range(len(dims)), dims, fontsize=7)
        ax.set_yticks(range(len(labels)), labels, fontsize=6)
        fig.colorbar(im, ax=ax, label="mean preference toward B")
        ax.set_title("Per-reader mean preference")
        fig.tight_layout()
        path = out / "per_reader.png"
        fig.savefig(path, dpi=110)
        plt.close(fig)
        paths.append(path)
    return paths


def _slug(text: str) -> str:
    return "".join(ch if ch.isalnum() else "_" for ch in text).strip("_")[:60]
