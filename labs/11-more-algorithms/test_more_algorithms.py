"""Lab 11, the other algorithms: static-rr, first, hdr, url_param, hash and rdp-cookie.

Every claim here is exact. Round robin is deterministic, `first` is once its requests
overlap (checked below), and the hashes are of fixed keys, the same every run and in both
runtimes: where a claim would hold only by luck for other keys, the comment says how
likely that luck is."""

from collections import Counter

from labkit.checks import *  # noqa: F401,F403 (the checks every lab runs)
from labkit.checks import test_the_runtime_api_answers_this_machine_only  # noqa: F401
from labkit.labs import find_lab

lab11 = find_lab(11).load("demo")
SERVERS = {"app1", "app2", "app3"}
N = find_lab(11).manifest["demo"]["requests"]


def test_static_rr_refuses_the_weight_roundrobin_takes_at_once(demo_run):
    turns = demo_run.measured["turns"]
    for backend in ("static_rr", "roundrobin"):
        seen, counted = turns[f"{backend} before"]
        assert seen == {s: N // 3 for s in SERVERS}, backend
        assert counted == seen, backend
    assert turns["roundrobin answer"] == ""
    # HAProxy's own words (src/server.c), the same in 2.6, 3.0 and 3.2.
    assert turns["static_rr answer"] == (
        "Backend is using a static LB algorithm and only accepts weights '0%' and '100%'.")
    assert turns["static_rr 0% answer"] == ""
    static_rr, static_rr_counted = turns["static_rr after"]
    assert static_rr == {"app2": N // 2, "app3": N // 2}
    # Weights 3, 1, 1: each round of 5 holds app1 three times, and N is 6 rounds.
    roundrobin, roundrobin_counted = turns["roundrobin after"]
    assert roundrobin == {"app1": 3 * N // 5, "app2": N // 5, "app3": N // 5}
    assert static_rr_counted == static_rr and roundrobin_counted == roundrobin


def test_the_weights_are_back_after_the_demo(lab, demo_run):
    assert lab11.weights_of(lab, "roundrobin") == dict.fromkeys(SERVERS, 1)
    assert lab11.weights_of(lab, "static_rr") == dict.fromkeys(SERVERS, 1)


def test_first_fills_app1_then_app2_and_leaves_app3_idle_until_both_are_full(demo_run):
    first = demo_run.measured["first"]
    in_turn, in_turn_counted = first["in turn"]
    assert in_turn == {"app1": N} and in_turn_counted == in_turn
    # The counts below are exact once the requests overlap: each left before any was
    # answered (a request left `seconds` before its answer came). They are sent 50 ms apart,
    # so that HAProxy picks a server for one at a time, and each is held a second: only a
    # machine stalled for most of that second could break this precondition.
    sent = first["sent at once"]
    assert max(r.answered - r.answer.seconds for r in sent) < min(r.answered for r in sent), sent
    at_once, at_once_counted = first["at once"]
    assert at_once == {"app1": 2, "app2": 2, "app3": 1}
    assert at_once_counted == at_once


def kept_and_spread(servers_of: dict[str, set[str]], servers: set[str]) -> None:
    for key, got in servers_of.items():
        assert len(got) == 1, (key, got)
    # For these fixed keys this is exact. (Were the hash random, 12 keys would leave some
    # server with none 2.3% of the time: the claim rests on the keys, not on luck.)
    assert {next(iter(got)) for got in servers_of.values()} == servers


# One test per algorithm, not a parametrized one: a parameter of its own would make pytest
# reorder the tests across runtimes and start the module's lab again.
def test_a_tenant_keeps_its_server_and_requests_without_one_take_turns(demo_run):
    a_key_keeps_its_server_and_requests_without_one_take_turns(demo_run.measured["hdr"])


def test_a_user_parameter_keeps_its_server_and_requests_without_one_take_turns(demo_run):
    a_key_keeps_its_server_and_requests_without_one_take_turns(demo_run.measured["url_param"])


def test_a_session_cookie_keeps_its_server_and_requests_without_one_take_turns(demo_run):
    a_key_keeps_its_server_and_requests_without_one_take_turns(demo_run.measured["hash"])


def a_key_keeps_its_server_and_requests_without_one_take_turns(measured):
    kept_and_spread(measured["servers of"], SERVERS)
    asked = Counter({s: 0 for s in SERVERS})
    for key, got in measured["servers of"].items():
        asked[next(iter(got))] += 3
    assert measured["counted"] == +asked
    without, without_counted = measured["without"]
    assert without == {s: N // 3 for s in SERVERS} and without_counted == without


def test_an_rdp_user_keeps_their_server(demo_run):
    measured = demo_run.measured["rdp"]
    kept_and_spread(measured["servers of"], {"rdp1", "rdp2", "rdp3"})
    assert sum(measured["counted"].values()) == 3 * len(measured["servers of"])
