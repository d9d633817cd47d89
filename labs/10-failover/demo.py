"""Lab 10's demonstration: a server killed while traffic flows, with and without
redispatch; then a server drained (its checks fail, it keeps answering)."""

import signal
import time

from labkit import haproxy, runtimes, stats
from labkit.client import Traffic
from labkit.demo import table

# HAProxy waits about a second before each retry, and makes 3: an outage shorter than that
# would let the retries find the server back and hide what redispatch is for.
OUTAGE = 4.0


def failed(answers) -> int:
    return sum(a.status != 200 for a in answers)


def kill_and_restart(record, frontend: str, backend: str, interval: float, pause: float = 1.0) -> dict:
    """Traffic to `frontend` while app2 is killed (SIGKILL, docker kill), stays dead OUTAGE
    seconds after HAProxy marks it DOWN, and is started again. Returns the answers and the
    moments, in seconds since the traffic began."""
    runtime = runtimes.named(record["runtime"])
    with Traffic(record["frontends"][frontend] + "/", interval) as traffic:
        time.sleep(pause)
        killed = traffic.now()
        runtime.stop_service(record, "app2", kill=True)
        stats.wait_for_status(record["stats"], {(backend, "app2"): "DOWN"}, timeout=30)
        down = traffic.now()
        time.sleep(OUTAGE)
        runtime.start_service(record, "app2", time.monotonic() + 60)
        stats.wait_for_status(record["stats"], {(backend, "app2"): "UP"}, timeout=30)
        up = traffic.now()
        time.sleep(pause)
        end = traffic.now()
    return {"sent": traffic.sent, "answers": [request.answer for request in traffic.sent], "killed": killed, "down": down,
            "up": up, "between": traffic.between(killed, down), "after_up": traffic.between(up, end)}


def drain(record, interval: float, pause: float = 1.0) -> dict:
    """app2's health checks fail on purpose, without it dying: HAProxy takes it out."""
    runtime = runtimes.named(record["runtime"])
    with Traffic(record["frontends"]["no_redispatch_front"] + "/", interval) as traffic:
        time.sleep(pause)
        runtime.signal_service(record, "app2", signal.SIGUSR1)
        stats.wait_for_status(record["stats"], {("servers_no_redispatch", "app2"): "DOWN"}, timeout=30)
        down = traffic.now()
        at_down = stats.counters(record["stats"], "servers_no_redispatch", "lbtot")["app2"]
        time.sleep(pause)
        while_drained = stats.counters(record["stats"], "servers_no_redispatch", "lbtot")["app2"] - at_down
        runtime.signal_service(record, "app2", signal.SIGUSR2)
        stats.wait_for_status(record["stats"], {("servers_no_redispatch", "app2"): "UP"}, timeout=30)
        at_up = stats.counters(record["stats"], "servers_no_redispatch", "lbtot")["app2"]
        time.sleep(pause)
        after_up = stats.counters(record["stats"], "servers_no_redispatch", "lbtot")["app2"] - at_up
    return {"answers": [request.answer for request in traffic.sent], "after_down": traffic.between(down, down + pause),
            "sent_to_app2_while_drained": while_drained, "sent_to_app2_after_up": after_up}


def demo(lab, record, say=print):
    interval = lab.manifest["demo"]["interval"]
    say(f"\nRequests every {interval * 1000:g} ms. app2 is killed, HAProxy notices, and {OUTAGE:g} s later app2 starts again:")
    rows = []
    for frontend, backend, label in (("http_front", "servers", "retries + redispatch"),
                                      ("no_redispatch_front", "servers_no_redispatch", "retries only")):
        run = kill_and_restart(record, frontend, backend, interval)
        rows.append([label, len(run["answers"]), failed(run["answers"]),
                     f"{run['down'] - run['killed']:.2f} s", f"{run['up'] - run['down']:.2f} s"])
    say(table(["backend", "requests", "failed", "killed -> DOWN", "DOWN -> UP"], rows))
    checks = haproxy.health_checks(lab.config.read_text())
    refused, silent = checks.time_to_down(silent=False), checks.time_to_down(silent=True)
    say(f"Expected: no failed request with redispatch; without it, the requests that reach the dead\n"
        f"app2 before HAProxy marks it DOWN fail. DOWN comes after {checks.fall} failed checks, each one {checks.inter * 1000:g} ms\n"
        f"after the last ended: {refused[0]:g} to {refused[1]:g} s after the kill where app2's port refuses connections\n"
        f"(local runtime); up to {silent[1]:g} s where its address goes silent and each check waits out its\n"
        f"{checks.timeout * 1000:g} ms timeout (Docker). Sending the kill and reading the stats page add a little.")

    say("\nNow app2 is drained instead: its health checks fail on purpose, but it keeps running:")
    run = drain(record, interval)
    say(table(["while app2 is drained", "requests", "failed", "sent to app2"],
              [["retries only", len(run["after_down"]), failed(run["after_down"]), run["sent_to_app2_while_drained"]]]))
    say("Expected: a drained server gets no new requests and none fail, even without redispatch: it\n"
        "still answers whatever reached it before HAProxy took it out.")
