"""Lab 10, failover: health checks notice a dead server, retries and redispatch save the
requests caught before they do, and a drained server is not a dead one."""

from labkit.checks import *  # noqa: F401,F403 (the checks every lab runs)
from labkit.client import Answer
from labkit.haproxy import health_checks
from labkit.labs import find_lab

lab10 = find_lab(10).load("demo")
# The tests read the runs `make lab-10` shows (demo_run): a kill with redispatch, one
# without, and a drain, with a request every 4 ms: 1000 and more during each outage.


def test_a_killed_server_costs_no_request_with_redispatch(lab, demo_run):
    assert lab.lab.manifest["demo"]["interval"] == 0.004
    run = demo_run.measured["servers"]
    assert len(run["answers"]) >= 1000, len(run["answers"])
    assert lab10.failed(run["answers"]) == 0, [a for a in run["answers"] if a.status != 200][:5]
    # Back UP, app2 takes its turns again.
    assert "app2" in {a.backend for a in run["after_up"]}

    # Time to DOWN within the window the demo prints for this runtime (see time_to_down).
    # "killed" is taken just before the kill is sent, so the kill's own latency and the
    # kit's polling of the stats page only add: a second above, and a quarter second's
    # slack below for HAProxy's timers.
    checks = health_checks(lab.lab.config.read_text())
    soonest, latest = checks.time_to_down(silent=lab.runtime.dead_service_is_silent)
    to_down = run["down"] - run["killed"]
    assert soonest - 0.25 < to_down < latest + 1, (soonest, to_down, latest)


def test_without_redispatch_the_requests_caught_in_between_fail(demo_run):
    run = demo_run.measured["servers_no_redispatch"]
    # Round robin keeps giving the dead app2 a third of the requests until it is DOWN,
    # and retries go back to it: those fail. At one request every 4 ms, with DOWN at least
    # half a second after the kill, that is dozens of requests.
    assert lab10.failed(run["between"]) >= 10, lab10.failed(run["between"])
    # Every failure came from the kill: its answer came after the kill (a request sent just
    # before can be in flight, or still waiting to leave a busy machine, when app2 dies), and
    # it was sent before the DOWN; none once HAProxy knew.
    failures = [request for request in run["sent"] if request.answer.status != 200]
    first_answered = min(request.answered for request in failures)
    last_sent = max(request.at for request in failures)
    assert run["killed"] <= first_answered and last_sent <= run["down"], (
        first_answered, last_sent, run["killed"], run["down"])


def test_a_drained_server_gets_no_new_requests_and_none_fail(demo_run):
    run = demo_run.measured["drained"]
    assert run["sent_to_app2_while_drained"] == 0
    assert lab10.failed(run["answers"]) == 0
    # ...and it came back: once UP again, HAProxy sends it requests.
    assert run["sent_to_app2_after_up"] > 0


def test_the_exercise_check_asks_haproxys_log_who_cut_an_answer_short(monkeypatch):
    checker = find_lab(10).load("exercise/check")
    cut_short = Answer(0, None, failure="no answer from http://127.0.0.1:9001/: ('Connection broken: "
                                        "IncompleteRead(0 bytes read, 17 more expected)')")
    answers = [Answer(200, "app1"), cut_short, Answer(200, "app3")]
    monkeypatch.setattr(checker.lab10, "kill_and_restart", lambda *args, **kwargs: {"answers": answers})
    normal = ('172.18.0.1:53186 [22/Nov/2026:03:05:50.677] no_redispatch_front servers_no_redispatch/app1 '
              '0/0/0/0/0 200 160 - - ---- 1/1/0/0/0 0/0 "GET / HTTP/1.1"')
    server_abort = ('172.18.0.1:53188 [22/Nov/2026:03:05:50.681] no_redispatch_front servers_no_redispatch/app2 '
                    '0/0/0/1/1 200 143 - - SD-- 1/1/0/0/0 0/0 "GET / HTTP/1.1"')

    class RunningLab:
        record = {}
        log = ""

        def haproxy_log(self):
            return self.log

    lab = RunningLab()
    lab.log = f"{normal}\n{server_abort}\n{normal}"
    [problem] = checker.check(lab)
    assert problem.startswith("1 of 3 requests failed after app2 was killed"), problem
    assert "IncompleteRead" in problem and "logged 1 request(s) that did not end normally" in problem, problem
    assert server_abort in problem, problem

    lab.log = f"{normal}\n{normal}\n{normal}"
    [problem] = checker.check(lab)
    assert "cut short between HAProxy and this client" in problem, problem
