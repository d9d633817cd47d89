"""Lab 8, random: an even spread with no pattern, and the power of two choices.

Every bound below is sized so that it fails by chance at most once in a million runs when
HAProxy does what the docs say; each says how."""

from collections import Counter
from itertools import pairwise

from labkit import bounds
from labkit.checks import *  # noqa: F401,F403 (the checks every lab runs)

SERVERS = ["app1", "app2", "app3"]
# How far a server's share of HAProxy's hash ring may sit from a third at weight 256. Each
# server owns 4096 points; the share of n random points out of 3n is about a third give or
# take 0.005 (one standard deviation), and on HAProxy 2.6 the three shares measure
# 0.330, 0.333 and 0.337. Twice the standard deviation covers other versions' placements.
RING_BIAS = 0.01


def test_many_requests_spread_evenly(demo_run):
    """The requests `make lab-8` sends one after another to the ring of weight 256."""
    ring = demo_run.measured["rings"]["servers"]
    n = len(ring["order"])
    assert n == 3000  # what the bounds below are derived for
    seen = Counter(ring["order"])
    assert ring["statuses"] == {200}
    assert ring["haproxy"] == seen

    # Chi-square goodness of fit against a third each, 2 degrees of freedom. Were the ring
    # exactly fair, the statistic would follow a central chi-square; each server's share
    # may be off by up to RING_BIAS, which makes it noncentral with
    # lambda = n * sum(bias^2 / (1/3)) <= 3000 * 3 * 2 * 0.01^2 = 1.8 (the biases sum to
    # zero, so at most two are 0.01 in size). The critical value is taken at 1e-7 rather
    # than 1e-6, leaving a factor of ten for the chi-square approximation of a multinomial
    # with 1000 expected per cell.
    critical = bounds.chi2_critical(2, 1e-7, noncentrality=1.8)
    assert 44 < critical < 46
    statistic = bounds.chi2_statistic([seen[s] for s in SERVERS], [1 / 3] * 3)
    assert statistic < critical, (seen, statistic)


def test_no_pattern_from_one_request_to_the_next(demo_run):
    """Round robin never repeats a server twice in a row; hashing always does; random does
    a third of the time. (The same requests as above: each bound holds on its own.)"""
    order = demo_run.measured["rings"]["servers"]["order"]
    assert len(order) == 3000
    # Disjoint pairs (1st, 2nd), (3rd, 4th), ... are independent draws: each pair names
    # the same server twice with probability sum of share^2, between 1/3 and
    # 1/3 + 2 * RING_BIAS^2 = 0.3335. The number of such pairs among 1500 is binomial;
    # Chernoff bounds give limits that each fail by chance at most 5e-7 of the time.
    pairs = list(zip(order[0::2], order[1::2]))
    same = sum(a == b for a, b in pairs)
    floor = bounds.binomial_floor(len(pairs), 1 / 3, 5e-7)
    ceiling = bounds.binomial_ceiling(len(pairs), 1 / 3 + 2 * RING_BIAS ** 2, 5e-7)
    assert (floor, ceiling) == (404, 600)
    assert floor <= same <= ceiling, same
    # And every server follows every server: no fixed order.
    assert {(a, b) for a, b in pairwise(order)} == {(a, b) for a in SERVERS for b in SERVERS}


def test_two_draws_spare_the_slow_server(lab, demo_run):
    """The power of two choices, with app1, app2 and a server that takes 0.3 s per answer:
    the requests from clients at once to each pool that `make lab-8` sends."""
    settings = lab.lab.manifest["demo"]
    n, clients = settings["choice_requests"], settings["clients"]
    assert (n, clients) == (1000, 8)  # what the bounds below are derived for
    one, two = demo_run.measured["one_draw"], demo_run.measured["two_draws"]
    for pool in (one, two):
        assert sum(pool["client"].values()) == n and pool["haproxy"] == pool["client"], pool
    one, two = one["client"], two["client"]

    # random(1): each request lands on the slow server with probability its ring share,
    # at least 1/3 - RING_BIAS > 0.31, whatever the load: a binomial count, so at most a
    # 5e-7 chance of falling below the Chernoff floor.
    floor = bounds.binomial_floor(n, 0.31, 5e-7)
    # random(2): the slow server is chosen when both draws land on it, probability
    # (1/3 + RING_BIAS)^2 < 0.12, or when it is drawn once and is not the busier of the
    # two. With 8 clients and answers 100 times slower than app1's and app2's, it holds
    # several requests at nearly every pick, so the second case only happens while it is
    # idle (at the start); measured shares are 0.09 to 0.12. Allowing up to 0.16 per
    # request, the Chernoff ceiling is exceeded with probability at most 5e-7.
    ceiling = bounds.binomial_ceiling(n, 0.16, 5e-7)
    assert ceiling < floor  # so passing both says: two draws send the slow server less
    assert one["slow"] >= floor, one
    assert two["slow"] <= ceiling, two
