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
    # DOWN needs `fall` failures (see time_to_down): at the soonest, connections refused at
    # once, (fall - 1) intervals: 4 s; at the latest, a silent container whose every check
    # waits out its timeout: 2 + 3 * 2 + 2 * 2 = 12 s. Half a second's slack below for
    # HAProxy's timers; up to a second more for the stop itself (a graceful one) and for
    # the kit's polling of the stats page.
    soonest, _ = checks.time_to_down(silent=False)
    _, latest = checks.time_to_down(silent=True)
    assert soonest - 0.5 < to_down < latest + 1, (soonest, to_down, latest)
    # UP needs `rise` passed checks, after app2 answers again: at least (rise - 1)
    # intervals; at most one interval to the first check and (rise - 1) more, plus the
    # time app2 takes to start and pass its own health check (up to 5 s in a container).
    assert (rise - 1) * inter - 0.5 < to_up < rise * inter + 5, to_up
