"""Lab 4, ACLs: each rule with a request that matches and one that does not, from real
client addresses; a denied request is refused by HAProxy and never reaches a backend."""

import pytest

from labkit import stats
from labkit.checks import *  # noqa: F401,F403 (the checks every lab runs)
from labkit.labs import find_lab

lab4 = find_lab(4).load("demo")


@pytest.fixture(scope="module")
def clients(lab):
    with lab.clients(hosts=[lab4.OUTSIDE, lab4.BLOCKED, lab4.INTERNAL]) as started:
        yield started


@pytest.mark.parametrize("case", lab4.CASES, ids=lambda c: f"{c.rule}: {c.what}")
def test_rule(lab, clients, case):
    denied_before = stats.frontend_counter(lab.stats_url, "http_front", "dreq")
    passed_before = lab4.passed_to_backends(lab)

    assert lab4.send(lab, clients, case) == case.expected

    denied = stats.frontend_counter(lab.stats_url, "http_front", "dreq") - denied_before
    passed = lab4.passed_to_backends(lab) - passed_before
    # HAProxy's own count: a denied request stops at the frontend; any other reaches one backend.
    assert (denied, passed) == ((1, 0) if case.expected == 403 else (0, 1))


def test_the_clients_come_from_inside_and_outside_the_ranges(lab, clients):
    """The source rules are only tested if the addresses really are what the config names."""
    prefix = "127.0.4." if lab.runtime.name == "local" else "172.16.4."
    assert clients.addresses == [prefix + str(h) for h in (lab4.OUTSIDE, lab4.BLOCKED, lab4.INTERNAL)]


@pytest.mark.parametrize("here, named, blocked", [("docker", "127.0.4.50", "172.16.4.50"),
                                                  ("local", "172.16.4.50", "127.0.4.50")])
def test_the_exercise_check_says_when_a_copy_names_the_other_runtimes_address(tmp_path, here, named, blocked):
    from types import SimpleNamespace

    checker = find_lab(4).load("exercise/check")
    copy = tmp_path / "haproxy.cfg"
    copy.write_text(f"    acl from_one_client src {named}\n")
    lab = SimpleNamespace(lab=SimpleNamespace(config=copy), runtime=SimpleNamespace(name=here))
    hint = checker.other_runtimes_address(lab, blocked)
    assert f"Your copy names {named}" in hint and f"where the client is {blocked}" in hint, hint
    copy.write_text(f"    acl from_one_client src {named} {blocked}\n")
    assert checker.other_runtimes_address(lab, blocked) == ""
