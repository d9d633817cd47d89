"""Lab 6, least connections: it differs from round robin only when requests overlap."""

from labkit.checks import *  # noqa: F401,F403 (the checks every lab runs)
from labkit.client import Traffic, answers_staggered
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
    # Derivation (deterministic, no chance involved). A slow server given a request holds
    # it SLOW_DELAY seconds, and least connections gives a busy one a request only while
    # app2 has one in progress too. app2 answers in milliseconds, inside the 0.1 s between
    # arrivals, so on a machine that keeps up it is idle at every arrival: each slow server
    # then takes one request per SLOW_DELAY seconds of arrivals, floor(3.9 / 5) + 1 = 1 at
    # the lab's 5 s, and app2 the other 38 of 40, where round robin would give it a third.
    floor = lab6_demo.fast_floor(requests, interval, SLOW_DELAY)
    assert floor == 38 or SLOW_DELAY != 5, floor
    assert floor > requests / 3, (SLOW_DELAY, floor)  # a bound round robin cannot meet

    with lab.counting("servers") as counted:
        with Traffic(lab.frontends["http_front"] + "/", interval, count=requests) as traffic:
            traffic.wait_until_sent()
    answers = [request.answer for request in traffic.sent]
    seen = {name: sum(a.backend == name for a in answers) for name in ORDER}
    assert {a.status for a in answers} == {200}
    assert counted["lbtot"] == {k: v for k, v in seen.items() if v}

    # The same bound, from what this run's client measured, for a machine that stalls (an
    # answer of app2's once took 0.23 s while four workers ran the suite on two cores).
    # HAProxy picked a slow server for request j after it was sent (at) and SLOW_DELAY
    # before its answer came back. If app2 was idle then, the slow server was idle too:
    # within the window of those picks each slow server takes at most one such request per
    # SLOW_DELAY. If app2 was busy, one of its requests was sent before that pick and
    # answered after it, which the client sees as an overlap. So app2 gets at least
    # requests - 2 * (floor(window / SLOW_DELAY) + 1) - overlaps, which is 38 when nothing
    # stalls (the window is then 3.9 s and there is no overlap).
    fast = [r for r in traffic.sent if r.answer.backend == "app2"]
    slow = [r for r in traffic.sent if r.answer.backend != "app2"]
    overlaps = sum(any(i.at < j.answered - SLOW_DELAY and i.answered > j.at for i in fast) for j in slow)
    window = max((j.answered - SLOW_DELAY for j in slow), default=0) - min((j.at for j in slow), default=0)
    measured_floor = requests - 2 * (int(max(window, 0) // SLOW_DELAY) + 1) - overlaps
    # Round robin gives a server at most ceil(40 / 3) = 14 of 40: the floor must be above that.
    assert measured_floor > -(-requests // 3), ("the machine stalled too long for this run to tell", overlaps, window)
    assert seen["app2"] >= measured_floor, (seen, overlaps, window)


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
