"""The learner's side of the wire: requests to a lab, counted by the X-Backend header."""

import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import requests
from requests.adapters import HTTPAdapter

from .errors import LabkitError


class SourceAddressAdapter(HTTPAdapter):
    """Connections that leave from a chosen local address (a loopback alias, say)."""

    def __init__(self, source: str):
        self.source = source
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.source, 0)
        super().init_poolmanager(*args, **kwargs)


def session(source: str | None = None) -> requests.Session:
    s = requests.Session()
    # A learner's HTTP_PROXY must not carry the kit's loopback traffic elsewhere.
    s.trust_env = False
    if source:
        s.mount("http://", SourceAddressAdapter(source))
        s.mount("https://", SourceAddressAdapter(source))
    return s


@dataclass(frozen=True)
class Answer:
    status: int
    backend: str | None
    seconds: float = 0.0
    failure: str = ""  # why there was no HTTP answer (status 0)


def ask(http: requests.Session, url: str, method: str = "GET", **kwargs) -> Answer:
    began = time.monotonic()
    try:
        response = http.request(method, url, timeout=kwargs.pop("timeout", 60), **kwargs)
    except requests.RequestException as error:
        raise LabkitError(f"no answer from {url}: {error}") from None
    return Answer(response.status_code, response.headers.get("X-Backend"), time.monotonic() - began)


def answers_in_turn(url: str, count: int, source: str | None = None, method: str = "GET",
                    headers: dict | None = None) -> list[Answer]:
    """`count` requests one after another on one keep-alive connection."""
    with session(source) as http:
        return [ask(http, url, method, headers=headers) for _ in range(count)]


def answers_staggered(url: str, count: int, interval: float) -> list[Answer]:
    """`count` requests, one every `interval` seconds, each on its own connection, whether
    or not the earlier ones have been answered: arrivals that overlap when servers are slow."""
    with Traffic(url, interval, count=count) as traffic:
        traffic.wait_until_sent()
    unanswered = [request.answer.failure for request in traffic.sent if request.answer.status == 0]
    if unanswered:
        raise LabkitError(f"{len(unanswered)} of {count} requests to {url} got no answer: {unanswered[0]}")
    return [request.answer for request in traffic.sent]


@dataclass(frozen=True)
class Sent:
    """One request of a Traffic: when it was sent and answered (seconds since the traffic
    began), and the answer. On a busy machine a request can wait well after `at` to leave."""
    at: float
    answer: Answer
    answered: float


class Traffic:
    """Requests that keep coming, one every `interval` seconds on a connection of its own,
    from when the `with` block starts until it ends (or `count` have been sent); each answer
    is kept with the times it was sent and answered, once the block has ended. A request
    that gets no HTTP answer at all counts as status 0."""

    def __init__(self, url: str, interval: float, timeout: float = 60, count: int | None = None):
        self.url, self.interval, self.timeout, self.count = url, interval, timeout, count
        self.sent: list[Sent] = []
        self.began = 0.0
        self._leaving: list[float] = []  # when each request was sent, answered or not
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    def now(self) -> float:
        """Seconds since the traffic began."""
        return time.monotonic() - self.began

    def _one(self, sent_at: float):
        with session() as http:
            try:
                answer = ask(http, self.url, timeout=self.timeout)
            except LabkitError as error:
                answer = Answer(0, None, failure=str(error))
        with self._lock:
            self.sent.append(Sent(sent_at, answer, self.now()))

    def _schedule(self):
        i = 0
        while not self._stop.is_set():
            at = self.now()
            with self._lock:
                self._leaving.append(at)
            thread = threading.Thread(target=self._one, args=(at,))
            thread.start()
            self._threads.append(thread)
            i += 1
            if i == self.count:
                return
            self._stop.wait(max(0.0, i * self.interval - self.now()))

    def __enter__(self):
        self.began = time.monotonic()
        self._scheduler = threading.Thread(target=self._schedule)
        self._scheduler.start()
        return self

    def wait_until_sent(self) -> None:
        """Until all `count` requests have been sent (their answers may still be on the way)."""
        self._scheduler.join()

    def wait_for_answers(self, sent_before: float, timeout: float = 120) -> None:
        """Until every request sent before `sent_before` has its answer (or its failure)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                waiting = sum(at < sent_before for at in self._leaving) - sum(r.at < sent_before for r in self.sent)
            if not waiting:
                return
            time.sleep(0.05)
        raise LabkitError(f"requests sent {sent_before:.1f} s into the traffic still had no answer after {timeout} s")

    def __exit__(self, *exc):
        self._stop.set()
        self._scheduler.join()
        for thread in self._threads:
            thread.join()
        self.sent.sort(key=lambda request: request.at)
        return False

    def between(self, start: float, end: float) -> list[Answer]:
        """The answers to the requests sent from `start` until `end`."""
        return [request.answer for request in self.sent if start <= request.at < end]


def answers_concurrently(url: str, count: int, clients: int) -> list[Answer]:
    """`count` requests from `clients` clients, each sending its next request as soon as
    its previous one is answered (a closed loop, like users who wait for the page)."""
    next_index = iter(range(count))
    lock = threading.Lock()

    def client():
        answers = []
        with session() as http:
            while True:
                with lock:
                    if next(next_index, None) is None:
                        return answers
                answers.append(ask(http, url))

    with ThreadPoolExecutor(clients) as pool:
        return [a for answers in pool.map(lambda _: client(), range(clients)) for a in answers]


def count_backends(answers: list[Answer]) -> Counter:
    return Counter(a.backend for a in answers)
