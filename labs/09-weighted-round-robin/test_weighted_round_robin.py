"""Lab 9, weighted round robin: weights 2, 1, 3 give exact counts in every round of six."""

import itertools
from collections import Counter

from labkit.checks import *  # noqa: F401,F403 (the checks every lab runs)

WEIGHTS = Counter({"app1": 2, "app2": 1, "app3": 3})
ROUND = sum(WEIGHTS.values())


def test_every_round_of_six_from_the_first_request_holds_2_1_3(lab):
    # Rounds are counted from the lab's first request: HAProxy's counters say how many it
    # has balanced so far (`make lab-9`'s demo and the exercise check ran first), so the
    # requests up to the end of the round under way are sent first and left out.
    rest_of_round = -sum(lab.counters("servers", "lbtot").values()) % ROUND
    with lab.counting("servers", "stot", "lbtot") as counted:
        answers = lab.answers_in_turn(rest_of_round + 600)

    assert {a.status for a in answers} == {200}
    order = [a.backend for a in answers][rest_of_round:]
    rounds = [order[i:i + ROUND] for i in range(0, len(order), ROUND)]
    for number, one_round in enumerate(rounds):
        assert Counter(one_round) == WEIGHTS, f"round {number}: {one_round}"
    seen = Counter(order)
    assert seen == {"app1": 200, "app2": 100, "app3": 300}
    for field in ("stot", "lbtot"):
        assert counted[field] == Counter(a.backend for a in answers), field


def test_the_weights_interleave_rather_than_come_in_blocks(lab):
    """Not app1 app1 app2 app3 app3 app3: HAProxy spreads each server's turns over the round,
    so no server answers as many requests in a row as its weight."""
    order = [a.backend for a in lab.answers_in_turn(6 * ROUND)]
    longest_run = {}
    for server, run in itertools.groupby(order):
        longest_run[server] = max(longest_run.get(server, 0), len(list(run)))
    for server, weight in WEIGHTS.items():
        if weight > 1:
            assert longest_run[server] < weight, (server, order)
