"""Lab 13, health checks and the Runtime API: what drain, maint, ready and set weight do to
the traffic; a server that is up but broken, which a plain check keeps and an HTTP check
takes out; the same server coming back slowly; and a Runtime API for this machine only.

The Runtime API's steps are round robin over servers that are all UP: their counts are
exact. The break and the slow start are timed, and their bounds are derived beside them."""

from collections import Counter

from labkit.checks import *  # noqa: F401,F403 (the checks every lab runs)
from labkit.checks import test_the_runtime_api_answers_this_machine_only  # noqa: F401
from labkit.haproxy import health_checks
from labkit.labs import find_lab

SETTINGS = find_lab(13).manifest["demo"]


def step(demo_run, command: str) -> dict:
    return next(s for s in demo_run.measured["operator"] if s["command"] == command)


def test_drain_sends_new_users_elsewhere_and_keeps_the_servers_own(demo_run):
    drained = step(demo_run, "set server ops/app2 state drain")
    assert drained["answer"] == ""  # the Runtime API says nothing when a command works
    # 30 new users dealt in turn between the two servers left: 15 each, none to app2.
    assert Counter(drained["new"]) == {"app1": 15, "app3": 15}
    # The user whose cookie names app2 still gets it: drain refuses new users only.
    assert drained["cookie"] == ["app2"] * SETTINGS["cookie_requests"]
    # HAProxy balanced the new users only: a request that follows its cookie is not balanced.
    assert drained["lbtot"] == Counter(drained["new"])
    # The health checks go on while the server drains.
    assert (drained["status"], drained["check"]) == ("DRAIN", "L7OK")


def test_maint_sends_every_user_elsewhere_even_the_servers_own(demo_run):
    maint = step(demo_run, "set server ops/app2 state maint")
    assert Counter(maint["new"]) == {"app1": 15, "app3": 15}
    # The cookie user's cookie names a server in maintenance, so HAProxy ignores it and
    # balances the user anew: never app2, and counted by lbtot.
    assert "app2" not in maint["cookie"] and len(maint["cookie"]) == SETTINGS["cookie_requests"]
    assert maint["lbtot"] == Counter(maint["new"]) + Counter(maint["cookie"])
    assert maint["status"] == "MAINT"


def test_ready_brings_the_server_back_and_set_weight_changes_its_share(demo_run):
    ready = step(demo_run, "set server ops/app2 state ready")
    assert Counter(ready["new"]) == {"app1": 10, "app2": 10, "app3": 10}
    assert ready["cookie"] == ["app2"] * SETTINGS["cookie_requests"]
    weighted = step(demo_run, "set weight ops/app1 3")
    assert weighted["weights"] == {"app1": 3, "app2": 1, "app3": 1}
    # Weights 3:1:1 over 30 new users: 18, 6 and 6 (smooth round robin, five to a round).
    assert Counter(weighted["new"]) == {"app1": 18, "app2": 6, "app3": 6}
    assert weighted["lbtot"] == Counter(weighted["new"])


def test_a_plain_check_keeps_the_broken_server_and_every_one_of_its_answers_fails(demo_run):
    plain = demo_run.measured["broken"]["backends"]["plain_check"]
    assert (plain["status"], plain["check"]) == ("UP", "L4OK")  # the port answers: the check passes
    answers = plain["answers"]
    # From app3's first 500 on (the signal takes a moment to arrive), round robin keeps
    # dealing app3 its turn: a third of the requests (within one, where the window's edges
    # cut a round), and every one of them fails, after the DOWN too.
    from_app3 = [status for status, server in answers if server == "app3"]
    assert abs(len(from_app3) - len(answers) / 3) <= 1, (len(from_app3), len(answers))
    assert set(from_app3) == {500} and all(status == 200 for status, server in answers if server != "app3")
    assert any(server == "app3" for _, server in plain["after_down"])
    # HAProxy counted the same 500s from app3 as the client got, over the whole traffic.
    assert plain["hrsp_5xx"] == Counter(app3=plain["failed_in_all"])


def test_an_http_check_takes_the_broken_server_out_within_its_fall_times_inter(lab, demo_run):
    broken = demo_run.measured["broken"]
    http = broken["backends"]["http_check"]
    assert (http["status"], http["check"]) == ("DOWN", "L7STS")  # a wrong status: the 500
    # Until DOWN, app3's turns fail; once HAProxy has marked it DOWN, not one request does.
    failed = [server for status, server in http["answers"] if status != 200]
    assert failed and set(failed) == {"app3"}
    assert all(status == 200 for status, _ in http["after_down"]), http["after_down"]
    assert http["hrsp_5xx"] == Counter(app3=http["failed_in_all"])
    # DOWN after `fall` failed checks, a check every `inter`: the first failing check comes
    # within one interval of the break, then fall - 1 more. The break lies between the
    # moment just before the signal was sent and the moment its sending had returned; the
    # kit's polling of the stats page only adds. So, from the first, no sooner than
    # `soonest` (less a quarter second for HAProxy's timers), and from the second no later
    # than `latest` and a second (as in lab 10).
    soonest, latest = health_checks(lab.lab.config.read_text()).time_to_down(silent=False)
    assert (soonest, latest) == (2.0, 3.0)
    assert soonest - 0.25 < broken["down"] - broken["broke"], broken
    assert broken["down"] - broken["signalled"] < latest + 1, broken


def test_the_server_that_comes_back_gets_its_share_step_by_step(demo_run):
    back = demo_run.measured["back"]
    seconds = back["seconds"]
    assert not any(s["failed"] for s in seconds)
    # HAProxy's throttle, read every 0.25 s: its slow start's percentages, growing, then
    # none once the 10 s are over (the page gives them: 100 * weight / 16, rounded up).
    readings = [value for _, value in back["throttle"]]
    ramp = [int(value) for value in readings if value]
    assert ramp == sorted(ramp) and set(ramp) <= {7, 13, 25, 32, 44, 57, 63, 75, 82, 94}, readings
    assert ramp and ramp[0] <= 13 and readings[-1] == "", readings
    # The first five seconds: app3's weight is at most 9/16 there, even a second early,
    # which against two servers at 16 is a share of 9/41 = 22%; a round of fwrr can add a
    # pick (see the page). Without slowstart it would be a third of them.
    first = seconds[:5]
    sent, to_app3 = sum(s["requests"] for s in first), sum(s["app3"] for s in first)
    assert sent >= 50 and to_app3 <= sent / 4 + 3, (to_app3, sent)
    # The last two seconds, 10 s after the UP and more: full weight, turns in a row.
    last = seconds[-2:]
    sent, to_app3 = sum(s["requests"] for s in last), sum(s["app3"] for s in last)
    assert sent >= 20 and abs(to_app3 - sent / 3) <= 2, (to_app3, sent)
    # The client and HAProxy count the same picks.
    answered = Counter(server for _, status, server in back["answers"])
    assert back["lbtot"] == answered
