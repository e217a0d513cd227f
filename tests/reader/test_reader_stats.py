"""Reader-study statistics against published or hand-computed values: Krippendorff's alpha on
the reliability data of Krippendorff (2011), the one-sample Wilcoxon signed-rank p-value by
enumerating every sign pattern, a paired Likert test, Spearman's rho from its textbook formula,
distributions, per-reader breakdowns, time on task and the plots.
"""

from __future__ import annotations

import itertools
import math

import pytest

from echogpt.reader import analysis_output, plots
from echogpt.reader import stats as reader_stats


def _pref(reader: str, case: str, value: int, dim: str = "correctness", a: str = "X",
          b: str = "Y", seconds: float | None = 10.0, position: int = 1) -> dict:
    return {"reader": reader, "case_id": case, "position": position, "kind": "ab", "dimension": dim,
            "value": value, "source_a": a, "source_b": b, "design_a": a, "design_b": b,
            "toward_design_b": value, "comment": None, "seconds": seconds}


def _lik(reader: str, case: str, source: str, value: int, dim: str = "correctness",
         position: int = 1) -> dict:
    return {"reader": reader, "case_id": case, "position": position, "kind": "likert",
            "dimension": dim, "value": value, "source_a": source, "source_b": None,
            "design_a": None, "design_b": None, "toward_design_b": None, "comment": None,
            "seconds": 20.0}


def test_krippendorff_alpha_matches_the_published_example():
    # Krippendorff (2011) "Computing Krippendorff's alpha-reliability", 4 observers x 12 units
    # with missing values; published ordinal alpha = 0.815 (nominal 0.743, interval 0.849).
    nan = None
    data = [[1, 2, 3, 3, 2, 1, 4, 1, 2, nan, nan, nan],
            [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, nan, 3],
            [nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, nan],
            [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, nan]]
    assert reader_stats.ordinal_alpha(data) == pytest.approx(0.815, abs=5e-4)
    assert reader_stats.ordinal_alpha([[1, 2, 3], [1, 2, 3]]) == pytest.approx(1.0)
    assert math.isnan(reader_stats.ordinal_alpha([[1, None], [None, 2]]))  # no unit rated twice


def _exact_signed_rank_p(values: list[int]) -> tuple[float, float]:
    """(W, two-sided p) by hand: drop zeros, mid-ranks of |d|, all 2^n sign patterns."""
    d = [v for v in values if v != 0]
    mags = sorted(abs(v) for v in d)
    rank = {m: (mags.index(m) + 1 + len(mags) - mags[::-1].index(m)) / 2 for m in set(mags)}
    ranks = [rank[abs(v)] for v in d]
    w_plus = sum(r for r, v in zip(ranks, d, strict=True) if v > 0)
    w = min(w_plus, sum(ranks) - w_plus)
    extreme = 0
    for signs in itertools.product((0, 1), repeat=len(d)):
        plus = sum(r for r, s in zip(ranks, signs, strict=True) if s)
        extreme += min(plus, sum(ranks) - plus) <= w + 1e-12
    return w, extreme / 2 ** len(d)


def test_one_sample_wilcoxon_against_no_preference_is_the_hand_computed_one():
    values = [2, 1, 1, -1, 2, 2, 1, 0]
    # By hand: zero dropped, |d| = 1,1,1,1 (mid-rank 2.5) and 2,2,2 (mid-rank 6); W- = 2.5;
    # W <= 2.5 happens for 5 sign patterns per tail (none or one of the four 1s negative):
    # p = 10 / 128 = 0.078125.
    w, p = _exact_signed_rank_p(values)
    assert (w, p) == (2.5, 10 / 128)
    rows = [_pref(f"r{i}", f"c{i}", v) for i, v in enumerate(values)]
    res = reader_stats.analyze_rows("t", rows, None, None)
    (row,) = res.preference
    assert row["n"] == 8 and row["mean_toward_B"] == pytest.approx(sum(values) / 8, abs=1e-3)
    assert row["wilcoxon_W"] == 2.5 and row["p_value"] == pytest.approx(0.078125, abs=1e-4)
    assert (row["prefer_A"], row["no_preference"], row["prefer_B"]) == (1, 1, 6)
    assert res.distributions["X vs Y"]["correctness"] == {"-2": 0, "-1": 1, "0": 1, "1": 3, "2": 3}
    assert row["ci_low"] <= row["mean_toward_B"] <= row["ci_high"]


def test_paired_likert_test_and_means():
    rows = []
    for i in range(6):  # Y scores one point above X in all six pairs
        rows += [_lik("r1", f"c{i}", "X", 3, position=2 * i), _lik("r1", f"c{i}", "Y", 4,
                                                                   position=2 * i + 1)]
    res = reader_stats.analyze_rows("t", rows, None, None)
    means = {r["source"]: r["mean"] for r in res.likert}
    assert means == {"X": 3.0, "Y": 4.0}
    (test,) = res.likert_tests
    # all six differences positive and tied: W = 0, exact p = 2 / 2^6
    assert test["pairs"] == 6 and test["mean_B_minus_A"] == 1.0
    assert test["wilcoxon_W"] == 0 and test["p_value"] == pytest.approx(2 / 64, abs=1e-4)


def test_spearman_correlation_of_supplied_metric_with_likert_means():
    metric = [1.0, 2.0, 3.0, 4.0, 5.0]
    scores = [2, 1, 4, 3, 5]
    # rho = 1 - 6 * sum(d^2) / (n (n^2 - 1)) = 1 - 6 * 4 / 120 = 0.8
    rows = [_lik("r1", f"c{i}", "X", s, position=i) for i, s in enumerate(scores)]
    supplied = {f"c{i}": {"X": {"m": m}} for i, m in enumerate(metric)}
    res = reader_stats.analyze_rows("t", rows, None, None, supplied=supplied)
    (corr,) = [c for c in res.correlation if c["kind"] == "Likert"]
    assert corr["spearman_rho"] == pytest.approx(0.8) and corr["n_cases"] == 5


def test_rouge_of_each_source_against_the_reference_is_correlated_with_preferences():
    texts = {f"c{i}": {"ref": "1. Severe aortic stenosis.\n2. Normal LV function.",
                       "X": "1. Severe aortic stenosis.",
                       "Y": ["1. Mild MR.", "1. Severe aortic stenosis.\n2. Normal LV function.",
                             "1. Aortic stenosis.", "1. Normal LV function."][i]} for i in range(4)}
    # Readers prefer Y exactly as much as its ROUGE-L gain over X: rho = 1.
    from echogpt.evaluation.metrics import compute

    gain = []
    for c in sorted(texts):
        r = compute("rouge", [texts[c]["ref"]] * 2, [texts[c]["X"], texts[c]["Y"]])["per_sample"]
        gain.append(r[1]["rougeL"] - r[0]["rougeL"])
    order = sorted(range(4), key=lambda i: gain[i])
    values = {i: v for i, v in zip(order, (-2, -1, 1, 2), strict=True)}
    rows = [_pref("r1", f"c{i}", values[i]) for i in range(4)]
    res = reader_stats.analyze_rows("t", rows, texts, "ref")
    (corr,) = [c for c in res.correlation if c["about"] == "X vs Y"]
    assert corr["metric"] == "rougeL vs ref" and corr["spearman_rho"] == pytest.approx(1.0)


def test_agreement_per_reader_and_time_on_task():
    rows = []
    for i, (v1, v2) in enumerate([(2, 2), (1, 1), (-1, -1), (0, 0), (-2, -2)]):
        rows += [_pref("r1", f"c{i}", v1, seconds=10.0 * (i + 1), position=i),
                 _pref("r2", f"c{i}", v2, seconds=None, position=i)]
    res = reader_stats.analyze_rows("t", rows, None, None)
    (agree,) = res.agreement
    assert agree["alpha_ordinal"] == pytest.approx(1.0) and agree["units_rated_twice"] == 5
    per = {r["reader"]: r["correctness"] for r in res.per_reader}
    assert per == {"r1": 0.0, "r2": 0.0}
    (tot,) = res.time_on_task
    assert tot["tasks"] == 5 and tot["median_s"] == 30.0  # r2 recorded no times


def test_agreement_says_it_needs_two_readers_on_the_same_cases():
    one = reader_stats.analyze_rows("t", [_pref("r1", f"c{i}", 1) for i in range(4)], None, None)
    note = "Agreement needs two or more readers on the same cases: 1 reader answered so far."
    assert analysis_output.agreement_note(one) == note
    assert note in analysis_output.format_analysis(one)
    apart = reader_stats.analyze_rows("t", [_pref("r1", "c1", 1), _pref("r2", "c2", 1)], None, None)
    assert analysis_output.agreement_note(apart) == ("Agreement needs two or more readers on the same "
                                                  "cases: 2 readers answered so far, on different cases.")
    rows = [_pref(r, f"c{i}", v) for i, v in enumerate((2, 1, -1)) for r in ("r1", "r2")]
    both = reader_stats.analyze_rows("t", rows, None, None)
    assert analysis_output.agreement_note(both) is None
    assert "alpha (A vs B, correctness): 1.0" in analysis_output.format_analysis(both)


def test_plots_are_written(tmp_path):
    rows = [_pref(f"r{i % 2}", f"c{i}", (i % 5) - 2, dim=d, position=i)
            for i in range(10) for d in ("completeness", "correctness")]
    rows += [_lik("r0", f"c{i}", s, 1 + (i % 5), position=100 + i) for i in range(5) for s in "XY"]
    res = reader_stats.analyze_rows("t", rows, None, None)
    paths = plots.plot_analysis(res, tmp_path)
    assert {p.name for p in paths} == {"preference_X_vs_Y.png", "likert_means.png", "per_reader.png"}
    assert all(p.stat().st_size > 5000 for p in paths)
    written = analysis_output.write_analysis(res, tmp_path / "out")
    assert (tmp_path / "out" / "preference.csv") in written
