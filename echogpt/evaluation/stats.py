"""Statistics for comparing systems and readers: bootstrap CIs, paired tests, win rates.

Pure functions over per-sample values (NaN/None pairs are dropped); the evaluation suite and the
reader-study analysis both use them.

    ci = bootstrap_ci([0.6, 0.7, 0.8]); ci.low <= ci.estimate <= ci.high
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import NamedTuple

import numpy as np


class CI(NamedTuple):
    """A point estimate with its confidence interval."""

    estimate: float
    low: float
    high: float


def finite(values: Sequence[float | None]) -> np.ndarray:
    """The finite values as a float array (None and NaN removed)."""
    return np.array([float(v) for v in values if v is not None and math.isfinite(float(v))], float)


def paired(a: Sequence[float | None], b: Sequence[float | None]) -> tuple[np.ndarray, np.ndarray]:
    """Aligned pairs with both values finite.

    Raises:
        ValueError: sequences of different lengths.
    """
    if len(a) != len(b):
        raise ValueError(f"paired values need equal lengths, got {len(a)} and {len(b)}")
    keep = [(float(x), float(y)) for x, y in zip(a, b, strict=True)
            if x is not None and y is not None and math.isfinite(float(x)) and math.isfinite(float(y))]
    if not keep:
        return np.array([], float), np.array([], float)
    xs, ys = zip(*keep, strict=True)
    return np.array(xs, float), np.array(ys, float)


def bootstrap_ci(values: Sequence[float | None], statistic: Callable[[np.ndarray], float] = np.mean,
                 n_boot: int = 2000, confidence: float = 0.95, seed: int = 0) -> CI:
    """Percentile bootstrap confidence interval of a statistic (default: the mean).

    Args:
        values: per-sample values.
        statistic: array -> number, applied to the data and to each resample.
        n_boot: number of resamples.
        confidence: coverage, e.g. 0.95.
        seed: random seed (results are reproducible).

    Returns:
        The statistic of the data with the (1-confidence)/2 and (1+confidence)/2 percentiles of
        the resampled statistics; NaNs when there are no values.
    """
    x = finite(values)
    if x.size == 0:
        return CI(math.nan, math.nan, math.nan)
    estimate = float(statistic(x))
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, x.size, size=(n_boot, x.size))
    if statistic is np.mean:
        stats = x[idx].mean(axis=1)
    else:
        stats = np.array([statistic(x[row]) for row in idx])
    alpha = (1 - confidence) / 2
    low, high = np.quantile(stats, [alpha, 1 - alpha])
    return CI(estimate, float(low), float(high))


def paired_bootstrap_diff(a: Sequence[float | None], b: Sequence[float | None], n_boot: int = 2000,
                          confidence: float = 0.95, seed: int = 0) -> CI:
    """Bootstrap CI of the mean paired difference a - b (studies resampled together)."""
    x, y = paired(a, b)
    return bootstrap_ci(list(x - y), n_boot=n_boot, confidence=confidence, seed=seed)


class TestResult(NamedTuple):
    """A paired test: statistic, two-sided p-value, pairs used and pairs that differ."""

    statistic: float
    p_value: float
    n: int
    n_nonzero: int


def wilcoxon_signed_rank(a: Sequence[float | None], b: Sequence[float | None]) -> TestResult:
    """Two-sided Wilcoxon signed-rank test of paired values (scipy; zero differences dropped).

    The statistic is the smaller of the positive- and negative-rank sums; scipy uses the exact
    null distribution for small samples without ties. All-equal pairs give p = 1.

    Returns:
        statistic, p-value (NaN with no pairs), n pairs, n non-zero differences.
    """
    from scipy.stats import wilcoxon

    x, y = paired(a, b)
    d = x - y
    nonzero = int(np.count_nonzero(d))
    if x.size == 0:
        return TestResult(math.nan, math.nan, 0, 0)
    if nonzero == 0:
        return TestResult(0.0, 1.0, int(x.size), 0)
    res = wilcoxon(d, zero_method="wilcox", alternative="two-sided")
    return TestResult(float(res.statistic), float(res.pvalue), int(x.size), nonzero)


class WinRate(NamedTuple):
    """How often system A beats system B on the same study."""

    wins: int
    losses: int
    ties: int
    n: int
    win_rate: float
    loss_rate: float
    tie_rate: float


def win_rate(a: Sequence[float | None], b: Sequence[float | None], higher_is_better: bool = True,
             tie_tolerance: float = 1e-9) -> WinRate:
    """Share of studies where A's per-sample value is better than B's, with ties reported.

    Args:
        a: system A's per-sample values.
        b: system B's values on the same studies.
        higher_is_better: False for error rates (lower wins).
        tie_tolerance: differences at most this large count as ties.

    Returns:
        Wins, losses, ties, pairs and their shares (NaN shares with no pairs).
    """
    x, y = paired(a, b)
    d = (x - y) if higher_is_better else (y - x)
    wins = int(np.sum(d > tie_tolerance))
    losses = int(np.sum(d < -tie_tolerance))
    n = int(d.size)
    ties = n - wins - losses
    share = (lambda k: k / n) if n else (lambda k: math.nan)
    return WinRate(wins, losses, ties, n, share(wins), share(losses), share(ties))


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm-Bonferroni adjusted p-values (same order as given; NaNs stay NaN)."""
    indexed = [(p, i) for i, p in enumerate(p_values) if not math.isnan(p)]
    indexed.sort()
    m = len(indexed)
    adjusted = [math.nan] * len(p_values)
    running = 0.0
    for rank, (p, i) in enumerate(indexed):
        running = max(running, min(1.0, (m - rank) * p))
        adjusted[i] = running
    return adjusted
