"""A started lab, with what its tests and exercise checkers need to look at it."""

import time
from collections import Counter

from . import haproxy, stats
from .client import answers_in_turn
from .runtimes import named


def haproxy_version(record: dict) -> str:
    """'2.6', say: the HAProxy that runs this lab (its recorded outputs depend on it)."""
    return haproxy.major_minor(named(record["runtime"]).haproxy_says_version(record))


class RunningLab:
    """A started lab, with what its tests need to look at it."""

    def __init__(self, lab, record):
        self.lab = lab
        self.record = record
        self.runtime = record["runtime"]
        self.frontends = record["frontends"]
        self.url = next(iter(self.frontends.values()))
        self.stats_url = record["stats"]

    def answers_in_turn(self, count: int, path: str = "/"):
        return answers_in_turn(self.url + path, count)

    def counters(self, backend: str, field: str) -> Counter:
        return Counter(stats.counters(self.stats_url, backend, field))

    def stop_service(self, service: str, kill: bool = False) -> None:
        named(self.runtime).stop_service(self.record, service, kill)

    def start_service(self, service: str, timeout: float = 60) -> None:
        named(self.runtime).start_service(self.record, service, time.monotonic() + timeout)

    def clients(self, count: int = 0, hosts: list[int] | None = None):
        """A context of clients with distinct source addresses: `count` of them, or one per
        host number in `hosts` (127.0.N.host locally, host of the lab's subnet in Docker)."""
        return named(self.runtime).clients(self.record, count, hosts)

    def service_host(self, service: str):
        """(testinfra host, pid there) of one of the lab's services."""
        return named(self.runtime).service_host(self.record, service)

    def haproxy(self):
        """(testinfra host, haproxy's pid there, its config's path there, `haproxy -c` command)."""
        return named(self.runtime).haproxy_host(self.record)

    def stop_service_and_wait(self, service: str, backend: str, kill: bool = False, timeout: float = 30) -> float:
        """Stop a service and wait until HAProxy reports it DOWN in `backend`; the seconds it took."""
        began = time.monotonic()
        self.stop_service(service, kill)
        stats.wait_for_status(self.stats_url, {(backend, service): "DOWN"}, timeout)
        return time.monotonic() - began

    def haproxy_log(self) -> str:
        return named(self.runtime).haproxy_log(self.record)

    def promised_ports(self) -> set[int]:
        """The ports the lab's URLs name: what `labkit status` tells the learner to open."""
        urls = [*self.frontends.values(), self.stats_url or ""]
        return {int(url.split("/")[2].rsplit(":", 1)[1]) for url in urls if url}
