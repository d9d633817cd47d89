"""The statistics behind the random labs' bounds, checked against known values."""

import math

import pytest

from labkit import bounds


def test_central_chi2_with_two_degrees_is_an_exponential():
    # df = 2: P(X > x) = exp(-x / 2), so the one-in-a-million point is -2 ln(1e-6).
    assert bounds.chi2_survival(10.0, 2) == pytest.approx(math.exp(-5))
    assert bounds.chi2_critical(2, 1e-6) == pytest.approx(-2 * math.log(1e-6), rel=1e-6)


def test_chi2_with_four_degrees_matches_the_table():
    assert bounds.chi2_critical(4, 0.05) == pytest.approx(9.4877, abs=1e-3)


def test_noncentral_chi2_has_the_right_mean_and_a_heavier_tail():
    # The mean of a noncentral chi-square is df + lambda; integrate the survival function.
    step = 0.01
    mean = sum(bounds.chi2_survival(i * step, 2, 3.0) for i in range(10000)) * step
    assert mean == pytest.approx(5.0, abs=0.02)
    assert bounds.chi2_critical(2, 1e-6, 3.0) > bounds.chi2_critical(2, 1e-6)


def test_binomial_bounds_hold_by_exact_sum():
    n, p, alpha = 600, 1 / 3, 1e-6
    floor, ceiling = bounds.binomial_floor(n, p, alpha), bounds.binomial_ceiling(n, p, alpha)

    def pmf(k):
        return math.comb(n, k) * p ** k * (1 - p) ** (n - k)

    assert sum(pmf(k) for k in range(floor)) <= alpha
    assert sum(pmf(k) for k in range(ceiling + 1, n + 1)) <= alpha
    # ...and are not absurdly loose: within a few standard deviations of the mean.
    sd = math.sqrt(n * p * (1 - p))
    assert n * p - 7 * sd < floor < n * p - 4 * sd
    assert n * p + 4 * sd < ceiling < n * p + 7 * sd


def test_chi2_statistic():
    assert bounds.chi2_statistic([10, 10, 10], [1 / 3] * 3) == 0
    assert bounds.chi2_statistic([20, 10], [0.5, 0.5]) == pytest.approx(10 / 3)
