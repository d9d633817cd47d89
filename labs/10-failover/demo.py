"""Lab 10's demonstration: a server killed while traffic flows, with and without
redispatch; then a server drained (its checks fail, it keeps answering)."""

import signal
import time

from labkit import haproxy
from labkit.client import Traffic
from labkit.demo import table

# HAProxy waits about a second before each retry, and makes 3: an outage shorter than that
# would let the retries find the server back and hide what redispatch is for.
OUTAGE = 4.0


def failed(answers) -> int:
    return sum(a.status != 200 for a in answers)


def kill_and_restart(lab, frontend: str, backend: str, interval: float, pause: float = 1.0) -> dict:
    """Traffic to `frontend` while app2 is killed (SIGKILL, docker kill), stays dead OUTAGE
    seconds after HAProxy marks it DOWN, and is started again. Returns the answers and the
    moments, in seconds since the traffic began."""
    with Traffic(lab.frontends[frontend] + "/", interval) as traffic:
        time.sleep(pause)
        out = lab.outage("app2", [backend], kill=True, during=lambda: time.sleep(OUTAGE), clock=traffic.now)
        time.sleep(pause)
        end = traffic.now()
    return {"sent": traffic.sent, "answers": [request.answer for request in traffic.sent], "killed": out.stopped,
            "down": out.down, "up": out.up, "between": traffic.between(out.stopped, out.down),
            "after_up": traffic.between(out.up, end)}


def drain(lab, interval: float, pause: float = 1.0) -> dict:
    """app2's health checks fail on purpose, without it dying: HAProxy takes it out."""
    app2 = ("servers_no_redispatch", "app2")

    def sent_to_app2():
        return lab.counters("servers_no_redispatch", "lbtot")["app2"]

    with Traffic(lab.frontends["no_redispatch_front"] + "/", interval) as traffic:
        time.sleep(pause)
        lab.signal_service("app2", signal.SIGUSR1)
        lab.wait_for_status({app2: "DOWN"})
        down = traffic.now()
        at_down = sent_to_app2()
        time.sleep(pause)
        while_drained = sent_to_app2() - at_down
        lab.signal_service("app2", signal.SIGUSR2)
        lab.wait_for_status({app2: "UP"})
        at_up = sent_to_app2()
        time.sleep(pause)
        after_up = sent_to_app2() - at_up
    return {"answers": [request.answer for request in traffic.sent], "after_down": traffic.between(down, down + pause),
            "sent_to_app2_while_drained": while_drained, "sent_to_app2_after_up": after_up}


def demo(lab, say=print):
    interval = lab.lab.manifest["demo"]["interval"]
    say(f"\nRequests every {interval * 1000:g} ms. app2 is killed, HAProxy notices, and {OUTAGE:g} s later app2 starts again:")
    rows, runs = [], {}
    for frontend, backend, label in (("http_front", "servers", "retries + redispatch"),
                                      ("no_redispatch_front", "servers_no_redispatch", "retries only")):
        run = runs[backend] = kill_and_restart(lab, frontend, backend, interval)
        rows.append([label, len(run["answers"]), failed(run["answers"]),
                     f"{run['down'] - run['killed']:.2f} s", f"{run['up'] - run['down']:.2f} s"])
    say(table(["backend", "requests", "failed", "killed -> DOWN", "DOWN -> UP"], rows))
    checks = haproxy.health_checks(lab.lab.config.read_text())
    refused, silent = checks.time_to_down(silent=False), checks.time_to_down(silent=True)
    say(f"Expected: no failed request with redispatch; without it, the requests that reach the dead\n"
        f"app2 before HAProxy marks it DOWN fail. DOWN comes after {checks.fall} failed checks, each one {checks.inter * 1000:g} ms\n"
        f"after the last ended: {refused[0]:g} to {refused[1]:g} s after the kill where app2's port refuses connections\n"
        f"(local runtime); up to {silent[1]:g} s where its address goes silent and each check waits out its\n"
        f"{checks.timeout * 1000:g} ms timeout (Docker). Sending the kill and reading the stats page add a little.")

    say("\nNow app2 is drained instead: its health checks fail on purpose, but it keeps running:")
    run = runs["drained"] = drain(lab, interval)
    say(table(["while app2 is drained", "requests", "failed", "sent to app2"],
              [["retries only", len(run["after_down"]), failed(run["after_down"]), run["sent_to_app2_while_drained"]]]))
    say("Expected: a drained server gets no new requests and none fail, even without redispatch: it\n"
        "still answers whatever reached it before HAProxy took it out.")
    return runs
