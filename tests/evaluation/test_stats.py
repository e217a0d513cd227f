"""Statistics against hand-computed reference values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from echogpt.evaluation import stats


def test_wilcoxon_all_positive_differences_exact_p():
    # d = 1..5, all positive: W+ = 15, W- = 0. Exact null: 2^5 = 32 equally likely sign patterns,
    # one with W- = 0, so two-sided p = 2 * 1/32 = 0.0625.
    res = stats.wilcoxon_signed_rank([2, 3, 4, 5, 6], [1, 1, 1, 1, 1])
    assert res.statistic == 0
    assert res.p_value == pytest.approx(0.0625)
    assert (res.n, res.n_nonzero) == (5, 5)


def test_wilcoxon_one_negative_difference_exact_p():
    # d = 1, -2, 3, 4, 5: ranks 1..5, W- = 2. Sign patterns with W- <= 2: {}, {1}, {2} -> 3 of 32,
    # two-sided p = 2 * 3/32 = 0.1875.
    res = stats.wilcoxon_signed_rank([1, -2, 3, 4, 5], [0, 0, 0, 0, 0])
    assert res.statistic == 2
    assert res.p_value == pytest.approx(0.1875)


def test_wilcoxon_identical_values_and_empty_input():
    assert stats.wilcoxon_signed_rank([1, 2, 3], [1, 2, 3]).p_value == 1.0
    assert math.isnan(stats.wilcoxon_signed_rank([], []).p_value)


def test_wilcoxon_drops_pairs_with_a_missing_value():
    res = stats.wilcoxon_signed_rank([2, 3, None, 5, 6, 7], [1, 1, 1, float("nan"), 1, 1])
    assert res.n == 4


def test_bootstrap_ci_covers_the_known_mean_with_the_expected_width():
    rng = np.random.default_rng(42)
    x = rng.normal(0.5, 0.1, size=400)
    ci = stats.bootstrap_ci(x.tolist(), n_boot=2000, seed=1)
    assert ci.low < 0.5 < ci.high
    assert ci.estimate == pytest.approx(x.mean())
    # normal-theory width 2 * 1.96 * sd / sqrt(n) = 0.0196 for sd 0.1, n 400
    assert (ci.high - ci.low) == pytest.approx(2 * 1.96 * 0.1 / 20, rel=0.2)


def test_bootstrap_ci_of_constant_values_is_a_point_and_reproducible():
    assert stats.bootstrap_ci([0.7] * 10) == (pytest.approx(0.7), pytest.approx(0.7), pytest.approx(0.7))
    values = [0.1, 0.4, 0.35, 0.8, 0.6]
    assert stats.bootstrap_ci(values, seed=3) == stats.bootstrap_ci(values, seed=3)


def test_bootstrap_ci_with_another_statistic_and_no_values():
    ci = stats.bootstrap_ci([1, 2, 3, 100], statistic=np.median, n_boot=500)
    assert ci.estimate == 2.5
    assert all(math.isnan(v) for v in stats.bootstrap_ci([None, float("nan")]))


def test_paired_bootstrap_difference_of_a_constant_shift():
    a = [0.5, 0.6, 0.9, 0.2]
    ci = stats.paired_bootstrap_diff([v + 0.1 for v in a], a)
    assert ci == (pytest.approx(0.1), pytest.approx(0.1), pytest.approx(0.1))


def test_paired_rejects_unequal_lengths():
    with pytest.raises(ValueError, match="equal lengths"):
        stats.paired([1, 2], [1])


def test_win_rate_counts_wins_losses_and_ties():
    a, b = [1, 2, 3, 3], [0, 3, 3, 1]  # win, loss, tie, win
    w = stats.win_rate(a, b)
    assert (w.wins, w.losses, w.ties, w.n) == (2, 1, 1, 4)
    assert (w.win_rate, w.loss_rate, w.tie_rate) == (0.5, 0.25, 0.25)
    lower = stats.win_rate(a, b, higher_is_better=False)
    assert (lower.wins, lower.losses, lower.ties) == (1, 2, 1)


def test_holm_adjustment_by_hand():
    # sorted 0.01, 0.03, 0.04 -> 3*0.01 = 0.03, 2*0.03 = 0.06, max(0.06, 1*0.04) = 0.06
    assert stats.holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    adjusted = stats.holm([0.5, math.nan])
    assert adjusted[0] == 0.5 and math.isnan(adjusted[1])
