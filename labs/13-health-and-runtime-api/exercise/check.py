"""Lab 13's exercise: plain_check asks the app's /healthz, and a broken server leaves it."""

import signal

from labkit.errors import LabkitError
from labkit.exercises import Problem
from labkit.haproxy import health_checks
from labkit.stats import last_check, rows, server_rows

MAY_CHANGE = {"backend plain_check"}


def check(lab) -> list[str]:
    lab.wait_until_checked()
    kinds = {row["svname"]: last_check(row) for row in server_rows(rows(lab.stats_url), "plain_check")}
    if not all(status.startswith("L7") for status in kinds.values()):
        return [Problem(
            f"HAProxy's checks of plain_check say {', '.join(sorted(set(kinds.values())))}: L4 means they "
            "only connect, and a broken app's port still answers.",
            closer="`option httpchk GET /healthz` makes each check an HTTP request; `http-check expect "
                   "status 200` says which answer passes. http_check, just below, has both.")]
    checks = health_checks(lab.lab.config.read_text())
    _, latest = checks.time_to_down(silent=False)
    lab.signal_service("app3", signal.SIGHUP)
    try:
        lab.wait_for_status({("plain_check", "app3"): "DOWN"}, timeout=latest + 3)
    except LabkitError:
        return [Problem(
            "Your checks ask the app, but a broken app3, which answers every request with a 500, "
            f"was still UP in plain_check {latest + 3:g} s later.",
            closer="Ask a path the broken app fails (/healthz), and expect the status a well app gives "
                   "(200): `http-check expect status 200`.")]
    finally:
        lab.signal_service("app3", signal.SIGUSR2)
    lab.wait_for_status({(backend, "app3"): "UP" for backend in ("plain_check", "http_check", "ops", "ramp")})
    return []

