"""Lab 13's demonstration: an operator's Runtime API commands and the traffic each one
changes; a server that is up but broken, against a plain check and an HTTP one; and the
same server coming back slowly."""

import signal
import time

from labkit import stats
from labkit.stats import last_check
from labkit.client import Traffic, answers_in_turn
from labkit.demo import bar, table

SERVERS = ["app1", "app2", "app3"]
STEPS = ["set server ops/app2 state drain", "set server ops/app2 state maint", "set server ops/app2 state ready",
         "set weight ops/app1 3"]
UNDO = "set weight ops/app1 1"


def server_rows(lab, backend: str) -> dict[str, dict[str, str]]:
    """{server: its row of HAProxy's stats CSV} for one backend."""
    return {r["svname"]: r for r in stats.server_rows(stats.rows(lab.stats_url), backend)}


def new_users(url: str, count: int) -> list[str]:
    """Who answered `count` users who bring no cookie: one request each."""
    return [a.backend for _ in range(count) for a in answers_in_turn(url, 1)]


def operator(lab, settings, say) -> list[dict]:
    url = lab.frontends["ops_front"] + "/"
    users, cookie_requests = settings["users"], settings["cookie_requests"]
    say(f"\n1 · The Runtime API. After each command, {users} new users send one request each to ops, and a\n"
        f"user whose cookie says SERVERID=app2 sends {cookie_requests}:")
    steps = []
    for command in STEPS:
        answer = lab.runtime_api(command).strip()
        if command.endswith("ready"):
            lab.wait_for_status({("ops", "app2"): "UP"})
        with lab.counting("ops") as counted:
            got = new_users(url, users)
            kept = [a.backend for a in answers_in_turn(url, cookie_requests, headers={"Cookie": "SERVERID=app2"})]
        rows = server_rows(lab, "ops")
        steps.append({"command": command, "answer": answer, "new": got, "cookie": kept, "lbtot": counted["lbtot"],
                      "status": rows["app2"]["status"], "check": last_check(rows["app2"]),
                      "weights": {s: int(rows[s]["weight"]) for s in SERVERS}})
    lab.runtime_api(UNDO)
    say(table(["command", *SERVERS, "app2 user", "app2 status", "app2 check"],
              [[s["command"], *(s["new"].count(server) for server in SERVERS), " ".join(sorted(set(s["cookie"]))),
                s["status"], s["check"] or "-"] for s in steps]))
    say(f"(columns app1-app3: who answered the new users; HAProxy's lbtot agrees. Then `{UNDO}`.)")
    return steps


def answers_since(traffic: Traffic, moment: float, until: float = float("inf")) -> list:
    """The answers to the requests `traffic` sent from `moment` until `until` (time.monotonic())."""
    return traffic.between(moment - traffic.began, until - traffic.began)


def broken(lab, settings, say) -> dict:
    interval = settings["interval"]
    say("\n2 · app3 breaks: its port stays open, and it answers every request with a 500. A request\n"
        f"every {interval * 1000:.0f} ms goes to plain_front (a plain `check`) and to http_front (`option httpchk`):")
    with lab.counting("plain_check", "lbtot", "hrsp_5xx") as plain_counted, \
            lab.counting("http_check", "lbtot", "hrsp_5xx") as http_counted:
        with Traffic(lab.frontends["plain_front"] + "/", interval) as plain, \
                Traffic(lab.frontends["http_front"] + "/", interval) as http:
            broke = time.monotonic()
            lab.signal_service("app3", signal.SIGHUP)
            signalled = time.monotonic()
            lab.wait_for_status({("http_check", "app3"): "DOWN"})
            down = time.monotonic()
            time.sleep(settings["after_down"])
        rows = {backend: server_rows(lab, backend)["app3"] for backend in ("plain_check", "http_check")}
    counted = {"plain_check": plain_counted, "http_check": http_counted}
    # The signal takes a moment to reach app3, longer under Docker: it is broken from the
    # first 500 it sent on (to either frontend), and the requests sent after that count.
    broken_from = min((traffic.began + request.answered for traffic in (plain, http)
                       for request in traffic.sent if request.answer.status == 500), default=down)
    out = {"broke": broke, "signalled": signalled, "broken_from": broken_from, "down": down, "took": down - broke,
           "backends": {}}
    table_rows = []
    for backend, traffic in (("plain_check", plain), ("http_check", http)):
        during = answers_since(traffic, broken_from)
        after = answers_since(traffic, down)
        failed = [a for a in during if a.status != 200]
        out["backends"][backend] = {
            "answers": [(a.status, a.backend) for a in during], "after_down": [(a.status, a.backend) for a in after],
            "failed_in_all": sum(r.answer.status != 200 for r in traffic.sent),
            "lbtot": counted[backend]["lbtot"], "hrsp_5xx": counted[backend]["hrsp_5xx"],
            "status": rows[backend]["status"], "check": last_check(rows[backend])}
        table_rows.append([backend, len(during), len(failed), sum(a.status != 200 for a in after),
                           counted[backend]["hrsp_5xx"]["app3"], rows[backend]["status"], last_check(rows[backend])])
    say(table(["backend", "requests", "failed", "failed after DOWN", "HAProxy app3 5xx", "app3 status", "app3 check"],
              table_rows))
    say(f"HAProxy marked app3 DOWN in http_check {out['took']:.1f} s after it broke (a check every 1 s, DOWN\n"
        "after 3 failures in a row: 2 to 3 s). The plain check still says UP: app3's port answers.")
    return out


def comes_back(lab, settings, say) -> dict:
    interval = settings["interval"]
    say("\n3 · app3 is mended. Once HAProxy's checks bring it UP, the ramp backend (slowstart 10s) gives it\n"
        f"its share step by step; a request every {interval * 1000:.0f} ms, per second after the UP:")
    throttle = []  # (seconds after the UP, HAProxy's throttle % for ramp/app3)
    with lab.counting("ramp") as counted:
        with Traffic(lab.frontends["ramp_front"] + "/", interval) as ramp:
            lab.signal_service("app3", signal.SIGUSR2)
            lab.wait_for_status({("ramp", "app3"): "UP"})
            up = time.monotonic()
            while time.monotonic() < up + settings["after_up"]:
                throttle.append((time.monotonic() - up, server_rows(lab, "ramp")["app3"]["throttle"]))
                time.sleep(0.25)
    lab.wait_for_status({(backend, "app3"): "UP" for backend in ("http_check", "ops", "ramp")})
    seconds = []
    for second in range(settings["after_up"]):
        got = answers_since(ramp, up + second, up + second + 1)
        # HAProxy's steps do not keep to the client's seconds: the reading as each began.
        # Out of its slow start the column is empty, which is full weight.
        began = next(value for at, value in throttle if at >= second) if throttle[-1][0] >= second else ""
        seconds.append({"requests": len(got), "app3": sum(a.backend == "app3" for a in got),
                        "failed": sum(a.status != 200 for a in got), "throttle": int(began or 100)})
    largest = max(s["app3"] / s["requests"] for s in seconds if s["requests"])
    say(table(["second", "requests", "app3", "app3's share", "", "HAProxy's throttle"],
              [[f"{i}-{i + 1}", s["requests"], s["app3"], f"{100 * s['app3'] / s['requests']:.0f}%" if s["requests"] else "-",
                bar(s["app3"] / s["requests"] if s["requests"] else 0, largest), f"{s['throttle']}%"]
               for i, s in enumerate(seconds)]))
    say("(throttle: the stats page's column as each second began: how far into its slow start app3 is.)")
    return {"seconds": seconds, "throttle": throttle, "lbtot": counted["lbtot"],
            "answers": [(r.at - (up - ramp.began), r.answer.status, r.answer.backend) for r in ramp.sent]}


def demo(lab, say=print):
    settings = lab.lab.manifest["demo"]
    # `make lab-N` does not wait for HAProxy's first checks; the states below would show them.
    lab.wait_until_checked()
    out = {"operator": operator(lab, settings, say), "broken": broken(lab, settings, say),
           "back": comes_back(lab, settings, say)}
    say("Expected: drain keeps app2's own user and sends new ones elsewhere, maint sends everyone elsewhere;\n"
        "the plain check keeps the broken app3 and a third of its requests fail, the HTTP check takes it\n"
        "out within 3 s; and back, app3's share grows for 10 s before it is a third again.")
    return out
