"""Lab 2, the TCP proxy: a layer-4 proxy chooses a server per connection, a layer-7 proxy
per request."""

from labkit.checks import *  # noqa: F401,F403 (the checks every lab runs)
from labkit.client import answers_in_turn
from labkit.labs import find_lab

lab2 = find_lab(2).load("demo")

def alternate(order: list[str]) -> bool:
    return all(a != b for a, b in zip(order, order[1:])) and set(order) == {"app1", "app2"}

def test_a_keep_alive_connection_stays_on_one_server_in_tcp_mode(lab):
    with lab.counting("tcp_servers") as counted:
        answers = answers_in_turn(lab2.http_url(lab, "tcp_front"), 6)
    assert {a.status for a in answers} == {200}
    assert len({a.backend for a in answers}) == 1, answers
    # HAProxy chose a server once, for the one connection, and counted one.
    assert counted["lbtot"] == {answers[0].backend: 1}

def test_new_connections_take_turns_in_tcp_mode(lab):
    with lab.counting("tcp_servers") as counted:
        order = [a.backend for a in lab2.one_per_connection(lab2.http_url(lab, "tcp_front"), 6)]
    assert alternate(order), order
    assert counted["lbtot"] == {"app1": 3, "app2": 3}

def test_http_mode_balances_every_request_on_one_connection(lab):
    with lab.counting("http_servers") as counted:
        order = [a.backend for a in answers_in_turn(lab2.http_url(lab, "http_front"), 6)]
    assert alternate(order), order
    assert counted["lbtot"] == {"app1": 3, "app2": 3}

def test_scaling_up_from_one_server_to_two(demo_run):
    """`make lab-2` stops app2, sends one request per connection, starts app2 and sends again."""
    assert {a.backend for a in demo_run.measured["app1 alone"]} == {"app1"}
    assert alternate([a.backend for a in demo_run.measured["app1 and app2"]])

def test_the_keep_alive_rows_it_shows(demo_run):
    """The page's last table: one connection, one server in tcp mode; every request
    balanced in http mode, app2 included once it is back."""
    assert len({a.backend for a in demo_run.measured["tcp keep-alive"]}) == 1
    assert alternate([a.backend for a in demo_run.measured["http keep-alive"]])
