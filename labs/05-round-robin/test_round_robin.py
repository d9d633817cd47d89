"""Lab 5, round robin: what the docs page tells the learner to do, and what it says they see."""

from collections import Counter

from labkit.checks import *  # noqa: F401,F403 (the checks every lab runs)

CONFIG_ORDER = ["app1", "app2", "app3"]


def test_300_requests_rotate_in_config_order_100_each(lab):
    with lab.counting("servers", "stot", "lbtot") as counted:
        answers = lab.answers_in_turn(300)

    assert {a.status for a in answers} == {200}
    order = [a.backend for a in answers]
    # Each answer comes from the server after the previous one in the config, wrapping round.
    for previous, current in zip(order, order[1:]):
        assert current == CONFIG_ORDER[(CONFIG_ORDER.index(previous) + 1) % 3], order
    seen = Counter(order)
    assert seen == {"app1": 100, "app2": 100, "app3": 100}
    # HAProxy's own counters saw the same 300 requests go to the same servers.
    for field in ("stot", "lbtot"):
        assert counted[field] == seen, field
