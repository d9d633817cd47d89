"""Lab 6, least connections: it differs from round robin only when requests overlap."""

from labkit.checks import *  # noqa: F401,F403 (the checks every lab runs)
from labkit.client import answers_staggered
from labkit.labs import find_lab

ORDER = ["app1", "app2", "app3"]

lab6_demo = find_lab(6).load("demo")
# The slow servers' delay, as `make lab-6` runs them: 5 s unless LAB6_SLOW_DELAY says otherwise.
SLOW_DELAY = lab6_demo.slow_delay(find_lab(6))


def test_one_request_after_another_is_a_plain_rotation(lab):
    """With every server idle at each pick, least connections has nothing to choose by: the
    tie goes to the server idle longest, so the servers take turns. (On a lab just started
    that is app1, app2, app3; after the demo's traffic the turn may start elsewhere. Four
    requests: a whole turn and back to the first; each slow answer takes 5 s.)"""
    order = [a.backend for a in lab.answers_in_turn(4)]
    assert sorted(order[:3]) == ORDER and order[3] == order[0], order


def test_overlapping_requests_go_mostly_to_the_fast_server(lab):
    requests, interval = 40, 0.1
    # Derivation (deterministic, no chance involved): app2 answers in milliseconds, far
    # inside the 0.1 s between arrivals, so it has no request in progress whenever one
    # arrives. A slow server given a request holds it SLOW_DELAY seconds and cannot win
    # against an idle app2 meanwhile, so each slow server takes at most one request per
    # SLOW_DELAY seconds of arrivals: floor(3.9 / 5) + 1 = 1 of them at the lab's 5 s.
    # app2 gets the rest: 38 of 40, where round robin would give it a third.
    floor = lab6_demo.fast_floor(requests, interval, SLOW_DELAY)
    assert floor == 38 or SLOW_DELAY != 5, floor
    assert floor > requests / 3, (SLOW_DELAY, floor)  # a bound round robin cannot meet

    with lab.counting("servers") as counted:
        answers = answers_staggered(lab.frontends["http_front"] + "/", requests, interval)
    seen = {name: sum(a.backend == name for a in answers) for name in ORDER}

    assert {a.status for a in answers} == {200}
    assert seen["app2"] >= floor, seen
    assert counted["lbtot"] == {k: v for k, v in seen.items() if v}


def test_round_robin_gives_the_same_traffic_a_third_each(lab):
    """The contrast: round robin ignores how busy a server is."""
    requests, interval = 30, 0.1
    with lab.counting("round_robin_servers") as counted:
        answers = answers_staggered(lab.frontends["round_robin_front"] + "/", requests, interval)
    seen = {name: sum(a.backend == name for a in answers) for name in ORDER}
    assert seen == {"app1": 10, "app2": 10, "app3": 10}
    assert counted["lbtot"] == seen
    # Two thirds of the requests, app1's and app3's, waited for a slow server.
    assert sum(a.seconds >= SLOW_DELAY for a in answers) == 20
