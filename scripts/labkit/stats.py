"""HAProxy's own counters, read from its stats page as CSV (the `;csv` suffix)."""

import csv
import io
import socket
import time

import requests

from .client import session
from .errors import LabkitError

SUMMARY_ROWS = ("FRONTEND", "BACKEND")


def rows(stats_url: str) -> list[dict[str, str]]:
    try:
        with session() as http:
            response = http.get(stats_url + ";csv", timeout=5)
            response.raise_for_status()
    except requests.RequestException as error:
        raise LabkitError(f"cannot read HAProxy's stats at {stats_url}: {error}") from None
    text = response.text.removeprefix("# ")
    return list(csv.DictReader(io.StringIO(text)))


def server_rows(all_rows: list[dict[str, str]], backend: str | None = None) -> list[dict[str, str]]:
    return [
        r for r in all_rows
        if r["svname"] not in SUMMARY_ROWS and (backend is None or r["pxname"] == backend)
    ]


def counters(stats_url: str, backend: str, field: str) -> dict[str, int]:
    """{server: value of a cumulative counter} for one backend, e.g. field="lbtot"."""
    return {r["svname"]: int(r[field] or 0) for r in server_rows(rows(stats_url), backend)}


def last_check(row: dict[str, str]) -> str:
    """The result of a server's last health check (L4OK, L7STS, INI, ...): the stats page
    marks one under way with "* " before it."""
    return row["check_status"].removeprefix("* ")


def unchecked_servers(all_rows: list[dict[str, str]]) -> list[str]:
    """Servers with health checks whose last check has not passed yet."""
    return [
        f"{r['pxname']}/{r['svname']} ({r['status']}, check {r['check_status'] or 'not run'})"
        for r in server_rows(all_rows)
        if r["check_status"] != "" and not (r["status"] == "UP" and r["check_status"].endswith("OK"))
    ]


def failed_checks(all_rows: list[dict[str, str]]) -> list[str]:
    """Servers whose last health check failed (a server not checked yet says INI)."""
    return [
        f"{r['pxname']}/{r['svname']} ({r['status']}, check {last_check(r)})"
        for r in server_rows(all_rows)
        if last_check(r) not in ("", "INI") and not r["check_status"].endswith("OK")
    ]


CHECK_TIMEOUT = 30  # seconds for HAProxy's first round of checks, which it spreads over `inter`


def not_checked_yet(all_rows: list[dict[str, str]]) -> list[str]:
    return [f"{r['pxname']}/{r['svname']} (check INI)" for r in server_rows(all_rows)
            if last_check(r) == "INI"]


def wait_until_checked(stats_url: str | None, timeout: float = CHECK_TIMEOUT, until: str = "passed") -> None:
    """Until HAProxy's stats page answers and reports every checked server UP after a
    passed check (until="passed"), or after its first check, passed or not ("first"), or
    nothing more ("answers")."""
    if not stats_url:
        return
    pending_in = {"passed": unchecked_servers, "first": not_checked_yet, "answers": lambda _: []}[until]
    deadline = time.monotonic() + timeout
    pending = ["the stats page"]
    while time.monotonic() < deadline:
        try:
            pending = pending_in(rows(stats_url))
        except LabkitError:
            pending = ["the stats page"]
        if not pending:
            return
        time.sleep(0.05)  # cheap: one look at the stats CSV on loopback
    if pending == ["the stats page"]:
        raise LabkitError(f"HAProxy's stats page did not answer in time: {stats_url}")
    if until == "first":
        raise LabkitError(f"HAProxy had not checked every server in time: {', '.join(pending)}")
    raise LabkitError(f"HAProxy did not see its servers pass a health check in time: {', '.join(pending)}")


def wait_for_status(stats_url: str, wanted: dict[tuple[str, str], str], timeout: float) -> float:
    """Until HAProxy reports each (backend, server) with the wanted status ("UP", "DOWN",
    "MAINT", ...); returns the seconds it took."""
    began = time.monotonic()
    while True:
        status = {(r["pxname"], r["svname"]): r["status"] for r in server_rows(rows(stats_url))}
        # "DOWN 1/2" is still on its way down: only the bare word counts.
        if all(status.get(key) == value for key, value in wanted.items()):
            return time.monotonic() - began
        if time.monotonic() - began > timeout:
            raise LabkitError(f"HAProxy did not report {wanted} within {timeout:g} s; it says {status}")
        # Often: lab 10 prints the time to DOWN, and compares it with the check settings.
        time.sleep(0.02)


def runtime_api(address: str, command: str) -> str:
    """HAProxy's answer to one Runtime API command (`set weight b/s 3`, `show table`, ...)
    sent to its stats socket at HOST:PORT, as `socat stdio tcp:HOST:PORT` would."""
    host, port = address.rsplit(":", 1)
    try:
        with socket.create_connection((host, int(port)), timeout=5) as connection:
            connection.sendall(command.encode() + b"\n")
            answer = b""
            while chunk := connection.recv(65536):  # HAProxy closes once it has answered
                answer += chunk
    except OSError as error:
        raise LabkitError(f"cannot reach HAProxy's Runtime API at {address}: {error}") from None
    return answer.decode()


def frontend_counter(stats_url: str, frontend: str, field: str) -> int:
    """A frontend's own counter, e.g. field="dreq" (requests denied by its rules)."""
    for r in rows(stats_url):
        if r["pxname"] == frontend and r["svname"] == "FRONTEND":
            return int(r[field] or 0)
    raise LabkitError(f"HAProxy's stats have no frontend {frontend!r}")
