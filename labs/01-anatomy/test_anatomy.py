"""Lab 1, the anatomy of a config: it runs, HAProxy validates it, and traffic survives a
server that dies, as the episode promised, once the health checks have noticed."""

from labkit.checks import *  # noqa: F401,F403 (the checks every lab runs)
from labkit.haproxy import health_checks
from labkit.labs import find_lab

lab1 = find_lab(1).load("demo")
# Both tests read the one outage that `make lab-1` shows (the demo_run fixture): traffic
# every 0.1 s while app2 is stopped, marked DOWN, started and marked UP again.


def test_traffic_survives_a_stopped_server_once_haproxy_marks_it_down(demo_run):
    traffic, moments = demo_run.measured["traffic"], demo_run.measured["moments"]
    # The transitions come from HAProxy's own status (its stats page), in this order.
    assert list(moments) == ["start", "app2 stopped", "HAProxy marks app2 DOWN", "app2 started again",
                             "HAProxy marks app2 UP", "end"]
    _, _, app2_down, _, up_again = [answers for _, answers in lab1.phases(traffic, moments)]

    # Answered before app2 stopped: every one answered. (One app2 was answering as it
    # stopped may fail, even though it was sent before; the demo stops app2 between two.)
    everything_up = [request.answer for request in traffic.sent if request.answered < moments["app2 stopped"]]
    assert everything_up and {a.status for a in everything_up} == {200}
    # Sent after app2 had stopped (its stop had ended: while the engine stops it, app2 may
    # still answer one) and before it was marked DOWN: app2's turns failed with 503
    # (refused at once locally; in Docker after four tries of a silent address, each
    # `timeout connect`), the rest answered by app1 and app3. Round robin gave app2 every
    # third of these, bar those sent in the moment between HAProxy's DOWN and the kit's
    # seeing it on the stats page (ten at most, one every 0.1 s), and there are dozens.
    # Sent while the engine stopped app2: answered by any app, or failed by HAProxy (503
    # for a refused or silent address, 502 for an answer app2 was cut off in), never
    # left without an HTTP answer.
    stopping = traffic.between(moments["app2 stopped"], demo_run.measured["app2 gone"])
    assert all((a.status == 200 and a.backend) or a.status in (502, 503) for a in stopping), stopping
    not_yet_down = traffic.between(demo_run.measured["app2 gone"], moments["HAProxy marks app2 DOWN"])
    assert len(not_yet_down) >= 30, not_yet_down
    assert {(a.status, a.backend) for a in not_yet_down} <= {(200, "app1"), (200, "app3"), (503, None)}, not_yet_down
    assert sum(a.status == 503 for a in not_yet_down) >= (len(not_yet_down) - 10) // 3, not_yet_down
    # Sent after HAProxy marked app2 DOWN: every one answered, and by a live server.
    assert app2_down, "no traffic while app2 was DOWN"
    assert {a.status for a in app2_down} == {200}
    assert {a.backend for a in app2_down} == {"app1", "app3"}
    # Back UP: app2 answers again.
    assert {a.status for a in up_again} == {200}
    assert "app2" in {a.backend for a in up_again}


def test_detection_takes_what_the_check_settings_say(lab, demo_run):
    checks = health_checks(lab.lab.config.read_text())
    inter, rise = checks.inter, checks.rise
    moments = demo_run.measured["moments"]
    to_down = moments["HAProxy marks app2 DOWN"] - moments["app2 stopped"]
    to_up = moments["HAProxy marks app2 UP"] - moments["app2 started again"]
    # DOWN needs `fall` failures (see time_to_down), each runtime with its own bounds: at
    # the soonest (fall - 1) intervals, 4 s; at the latest one more interval, 6 s, where a
    # dead process refuses at once (local), and 3 * 1 s later, 9 s, where every check of a
    # stopped container's silent address waits out `timeout connect` (Docker). Half a
    # second's slack below for HAProxy's timers; up to a second more for the stop itself
    # (a graceful one) and for the kit's polling of the stats page.
    soonest, latest = checks.time_to_down(silent=lab.runtime.dead_service_is_silent)
    assert (soonest, latest) == ((4.0, 9.0) if lab.runtime.dead_service_is_silent else (4.0, 6.0))
    assert soonest - 0.5 < to_down < latest + 1, (soonest, to_down, latest)
    # UP needs `rise` passed checks, after app2 answers again: at least (rise - 1)
    # intervals; at most one interval to the first check and (rise - 1) more, plus the
    # time app2 takes to start and pass its own health check (up to 5 s in a container).
    assert (rise - 1) * inter - 0.5 < to_up < rise * inter + 5, to_up
