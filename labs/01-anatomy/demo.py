"""Lab 1's demonstration: HAProxy's verdict on the file, then traffic while a server dies
and comes back."""

import time

from labkit import paths
from labkit.client import Traffic
from labkit.demo import table

SERVERS = ["app1", "app2", "app3"]


def check_config(lab, say):
    """`haproxy -c` where the lab's HAProxy runs: on this machine or in its container."""
    host, _, config, check = lab.haproxy()
    result = host.run(check)
    said = (result.stdout + result.stderr).replace(config, paths.shown(lab.lab.config)).strip()
    say(f"\n$ haproxy -c -f {paths.shown(lab.lab.config)}\n"
        + (said or "(nothing: HAProxy 2.9 and later say nothing when all is well)")
        + f"\nexit code {result.rc}: " + ("valid" if result.rc == 0 else "errors, see the [file:line] above"))


def outage(lab, traffic: Traffic, pause: float) -> dict:
    """Stop app2 while traffic flows, wait for HAProxy to mark it DOWN, start it again,
    wait for UP. Returns the moments, in seconds since the traffic began, and when the stop
    had ended. The stop comes half an interval after a request leaves, not with the next
    one: a request that app2 is answering as it stops can fail, and it would count as sent
    while all three were up. app2 starts again only once every request sent to it before the DOWN has ended: in
    Docker one still trying app2's silent address would otherwise reach the new app2."""

    def while_down():
        down = traffic.now()
        time.sleep(pause)
        traffic.wait_for_answers(sent_before=down)

    time.sleep(pause + traffic.interval / 2)
    out = lab.outage("app2", ["servers"], during=while_down, clock=traffic.now)
    time.sleep(pause)
    return {"start": 0.0, "app2 stopped": out.stopped, "HAProxy marks app2 DOWN": out.down,
            "app2 started again": out.started, "HAProxy marks app2 UP": out.up, "end": traffic.now()}, out.gone


def phases(traffic: Traffic, moments: dict) -> list[tuple[str, list]]:
    names = ["all three up", "app2 stopped, not yet DOWN", "app2 DOWN", "app2 started, not yet UP",
             "all three up again"]
    edges = list(moments.values())
    return [(name, traffic.between(start, end)) for name, start, end in zip(names, edges, edges[1:])]


def demo(lab, say=print):
    check_config(lab, say)
    interval = lab.lab.manifest["demo"]["interval"]
    url = lab.frontends["http_front"] + "/"
    say(f"\nTraffic to {url}: one request every {interval} s. Meanwhile app2 is stopped, then started:")
    with Traffic(url, interval) as traffic:
        moments, gone = outage(lab, traffic, pause=2.0)
    for event, at in list(moments.items())[1:-1]:
        say(f"  {at:5.1f} s  {event}")
    rows = []
    for name, answers in phases(traffic, moments):
        rows.append([name, len(answers), *(sum(a.backend == s and a.status == 200 for a in answers) for s in SERVERS),
                     sum(a.status != 200 for a in answers)])
    say("")
    say(table(["while", "requests", *SERVERS, "failed"], rows))
    say("Expected: no request reaches app2 once HAProxy has marked it DOWN; the requests it still sent\n"
        "to app2 before that failed (503). Lab 10 shows how retries and redispatch save them.")
    return {"traffic": traffic, "moments": moments, "app2 gone": gone}
