"""Lab 2, the TCP proxy: a layer-4 proxy chooses a server per connection, a layer-7 proxy
per request."""

from labkit import stats
from labkit.checks import *  # noqa: F401,F403 (the checks every lab runs)
from labkit.client import answers_in_turn
from labkit.labs import find_lab

lab2 = find_lab(2).load("demo")

def alternate(order: list[str]) -> bool:
    return all(a != b for a, b in zip(order, order[1:])) and set(order) == {"app1", "app2"}

def test_a_keep_alive_connection_stays_on_one_server_in_tcp_mode(lab):
    before = lab.counters("tcp_servers", "lbtot")
    answers = answers_in_turn(lab2.http_url(lab.record, "tcp_front"), 6)
    assert {a.status for a in answers} == {200}
    assert len({a.backend for a in answers}) == 1, answers
    # HAProxy chose a server once, for the one connection, and counted one.
    delta = lab.counters("tcp_servers", "lbtot") - before
    assert sum(delta.values()) == 1 and delta[answers[0].backend] == 1

def test_new_connections_take_turns_in_tcp_mode(lab):
    before = lab.counters("tcp_servers", "lbtot")
    order = [a.backend for a in lab2.one_per_connection(lab2.http_url(lab.record, "tcp_front"), 6)]
    assert alternate(order), order
    assert lab.counters("tcp_servers", "lbtot") - before == {"app1": 3, "app2": 3}

def test_http_mode_balances_every_request_on_one_connection(lab):
    before = lab.counters("http_servers", "lbtot")
    order = [a.backend for a in answers_in_turn(lab2.http_url(lab.record, "http_front"), 6)]
    assert alternate(order), order
    assert lab.counters("http_servers", "lbtot") - before == {"app1": 3, "app2": 3}

def test_scaling_up_from_one_server_to_two(lab):
    tcp = lab2.http_url(lab.record, "tcp_front")
    lab.stop_service("app2")
    stats.wait_for_status(lab.stats_url, {("tcp_servers", "app2"): "DOWN"}, timeout=30)
    assert {a.backend for a in lab2.one_per_connection(tcp, 4)} == {"app1"}

    lab.start_service("app2")
    stats.wait_for_status(lab.stats_url, {("tcp_servers", "app2"): "UP"}, timeout=30)
    assert alternate([a.backend for a in lab2.one_per_connection(tcp, 4)])
