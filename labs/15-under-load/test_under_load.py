"""Lab 15, under load: the same Locust load against four algorithms over one pool of two
fast servers and a slow one, whose ten waits (0.1 to 1 s) come in turn.

The slow server's waits are a fixed cycle, so that where its answers fall among all the
answers follows from the counts alone; the bounds below are derived from that, beside
each assertion. What stays random (random(2)'s draws) is bounded at one in a million."""

from labkit.checks import *  # noqa: F401,F403 (the checks every lab runs)
from labkit.labs import find_lab

SETTINGS = find_lab(15).manifest["demo"]
FAST, SLOW = ["app1", "app2"], "slow"
SLOW_WAITS = [0.1 * k for k in range(1, 11)]  # compose.yaml's DELAY for slow, in turn
# Locust's users finish the request they are in when the time is up: a second at most.
LONGEST = max(SLOW_WAITS)


def runs(demo_run):
    return demo_run.measured


def slow_answers_at_least(count: int, wait: float) -> int:
    """How many of `count` consecutive requests to the slow server waited `wait` or more:
    each run of ten holds each wait once, so at least this many, wherever the run starts."""
    return (count // 10) * sum(w >= wait - 1e-9 for w in SLOW_WAITS)


def test_no_request_failed_and_locust_counts_what_haproxy_counts(demo_run):
    for frontend, run in runs(demo_run).items():
        assert run.failed == 0, (frontend, run.failures)
        # Every request Locust counted, named by its X-Backend, is one HAProxy sent that
        # server (lbtot); health checks are not counted in lbtot.
        assert dict(run.served) == dict(run.picked), frontend
        assert set(run.served) <= set(FAST) | {SLOW}, frontend
        # Enough requests for the bounds below (each needs 180 or more).
        assert run.requests >= 300, (frontend, run.requests)


def test_round_robin_sends_the_slow_server_a_third_and_its_p95_is_a_slow_answer(demo_run):
    run = runs(demo_run)["roundrobin_front"]
    # Round robin over equal weights picks each server in turn, busy or not: the counts
    # differ by one at most.
    assert max(run.served.values()) - min(run.served.values()) <= 1, run.served
    # So the slow server has n >= N/3 - 1 answers, and 2 in every 10 of them waited 0.9 s
    # or more: at least 2 (N/3 - 10) / 10 = N/15 - 2 answers took 900 ms or more. Locust's
    # p95 is 900 ms or more once N - int(0.95 N) <= N/20 + 1 of them did, which holds for
    # N >= 180. No chance in it: the waits are a cycle, and an answer is never quicker
    # than its wait.
    took_900 = sum(n for ms, n in run.all_times().items() if ms >= 900)
    assert took_900 >= slow_answers_at_least(run.served[SLOW], 0.9) >= run.requests // 15 - 2
    assert run.percentile(0.95) >= 900, run.percentile(0.95)


def test_least_connections_sends_the_slow_server_little_and_keeps_p95_fast(demo_run):
    run, round_robin = runs(demo_run)["leastconn_front"], runs(demo_run)["roundrobin_front"]
    # leastconn gives the slow server a request only when it has no more in progress than
    # either fast one, so it never holds more than one more than they ever did (HAProxy's
    # smax, over the lab's life: an upper bound for this run).
    fast_most = min(run.most_at_once[server] for server in FAST)
    assert run.most_at_once[SLOW] <= fast_most + 1, run.most_at_once
    # Each of its answers holds one of those places for its wait, and each ten of them
    # 5.5 s in all; within the run (plus the last second its users finish in) it cannot
    # have answered more than this:
    most_answers = 10 * ((fast_most + 1) * (run.seconds + LONGEST) / sum(SLOW_WAITS) + 1)
    assert run.served[SLOW] <= most_answers, (run.served, run.most_at_once, run.seconds)
    # ... which, while the fast servers keep up (a few in progress at most), is under 5% of
    # the requests: far from round robin's third. A failure here with a large fast_most
    # means the machine stalled the fast servers too, and the run cannot tell.
    assert run.served[SLOW] < 0.05 * run.requests, (run.served, run.most_at_once)
    # With fewer than 5% of the answers slow, the p95 is a fast answer, unless a twentieth
    # of all requests were held half a second by the machine itself: 400 ms or more below
    # round robin's p95, which is 900 ms or more (above).
    assert run.percentile(0.95) < 500 <= round_robin.percentile(0.95) - 400, (
        run.percentile(0.95), round_robin.percentile(0.95))


def test_random_two_sends_the_slow_server_less_than_round_robin_and_a_lower_p95(demo_run):
    run, round_robin = runs(demo_run)["random_front"], runs(demo_run)["roundrobin_front"]
    # random(2) draws two servers (each a third of the ring at weight 256, lab 8) and takes
    # the one with fewer in progress. Once the slow server holds more than a fast one, and
    # with waits of 0.1 to 1 s against a few ms it does almost all the time, it wins only
    # when both draws land on it: 1 in 9. Were every pick that (p = 1/9), the share would
    # pass 0.2 with probability exp(-N KL(0.2 || 1/9)) <= exp(-300 * 0.033) ~ 5e-5 at
    # N = 300 and below 1e-6 from N = 420; the runs here have 1000 or more. 0.2 also
    # leaves room for the picks made while the slow server was not yet the busier, at the
    # start. Round robin's share is a third.
    assert run.requests >= 420, run.requests
    assert run.served[SLOW] <= 0.2 * run.requests, run.served
    # With at most a fifth of the answers slow, those that waited 0.9 s or more are at
    # most 2/10 of them (+2 for a part cycle): 0.04 N + 2, under the 0.05 N that would put
    # the p95 at 900 ms, unless the machine added 100 ms to a hundredth of the rest.
    # Round robin's p95 is 900 ms or more (above): random(2)'s is lower.
    took_900 = sum(n for ms, n in run.all_times().items() if ms >= 900)
    assert took_900 <= 0.2 * run.served[SLOW] + 2 + 0.01 * run.requests, took_900
    assert run.percentile(0.95) < 900 <= round_robin.percentile(0.95), (
        run.percentile(0.95), round_robin.percentile(0.95))


def test_first_fills_the_servers_in_order_and_never_past_maxconn(demo_run):
    run = runs(demo_run)["first_front"]
    # HAProxy never gives a server more than its maxconn at once.
    assert all(most <= 10 for most in run.most_at_once.values()), run.most_at_once
    # app1, written first, gets every request while it holds fewer than 10; it answers in
    # a few ms, so with 40 users it is full only when the machine stalls it: it takes most.
    # The slow server, last, gets one only when both fast ones hold 10.
    assert run.served["app1"] > 0.5 * run.requests, run.served
    assert run.served.get(SLOW, 0) <= run.served.get("app2", 0), run.served
