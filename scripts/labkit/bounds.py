"""Bounds for the labs whose algorithm draws at random, sized so that an assertion fails by
chance at most `alpha` of the time (the kit uses one in a million or less).

Only the standard library: the formulas are short enough to read, and the tests in
tests/test_bounds.py check them against known values.
"""

import math


def kl(a: float, p: float) -> float:
    """Kullback-Leibler divergence between Bernoulli(a) and Bernoulli(p)."""
    def term(x, y):
        return 0.0 if x == 0 else x * math.log(x / y)
    return term(a, p) + term(1 - a, 1 - p)


def binomial_floor(n: int, p_at_least: float, alpha: float) -> int:
    """The largest k with P(X < k) <= alpha for X ~ Binomial(n, p), every p >= p_at_least.

    Chernoff: P(X <= a n) <= exp(-n KL(a || p)) for a < p, and KL grows as p moves away."""
    k = int(n * p_at_least)
    while k > 0 and math.exp(-n * kl((k - 1) / n, p_at_least)) > alpha:
        k -= 1
    return k


def binomial_ceiling(n: int, p_at_most: float, alpha: float) -> int:
    """The smallest k with P(X > k) <= alpha for X ~ Binomial(n, p), every p <= p_at_most."""
    k = math.ceil(n * p_at_most)
    while k < n and math.exp(-n * kl((k + 1) / n, p_at_most)) > alpha:
        k += 1
    return k


def chi2_survival(x: float, df: int, noncentrality: float = 0.0) -> float:
    """P(X > x) for a chi-square variable with an even number of degrees of freedom, central or
    not: a Poisson(noncentrality / 2) mixture of central chi-squares with df + 2j degrees,
    each of which has the closed form exp(-x/2) * sum_{i<k} (x/2)^i / i! for df = 2k."""
    if df % 2:
        raise ValueError("only even degrees of freedom")
    half_x, half_lambda = x / 2, noncentrality / 2
    total, j = 0.0, 0
    while True:
        poisson = math.exp(-half_lambda) * half_lambda ** j / math.factorial(j)
        k = df // 2 + j
        central = math.exp(-half_x) * sum(half_x ** i / math.factorial(i) for i in range(k))
        total += poisson * central
        if j > half_lambda and poisson < 1e-18:
            return total
        j += 1


def chi2_critical(df: int, alpha: float, noncentrality: float = 0.0) -> float:
    """The c with P(X > c) = alpha, by bisection."""
    low, high = 0.0, 1000.0
    for _ in range(200):
        middle = (low + high) / 2
        if chi2_survival(middle, df, noncentrality) > alpha:
            low = middle
        else:
            high = middle
    return high


def chi2_statistic(observed: list[int], expected_shares: list[float]) -> float:
    n = sum(observed)
    return sum((o - n * p) ** 2 / (n * p) for o, p in zip(observed, expected_shares))
