"""The learner's side of the wire: requests to a lab, counted by the X-Backend header."""

from collections import Counter
from dataclasses import dataclass

import requests

from .errors import LabkitError


def session() -> requests.Session:
    s = requests.Session()
    # A learner's HTTP_PROXY must not carry the kit's loopback traffic elsewhere.
    s.trust_env = False
    return s


@dataclass(frozen=True)
class Answer:
    status: int
    backend: str | None


def ask(http: requests.Session, url: str, **kwargs) -> Answer:
    try:
        response = http.get(url, timeout=kwargs.pop("timeout", 30), **kwargs)
    except requests.RequestException as error:
        raise LabkitError(f"no answer from {url}: {error}") from None
    return Answer(response.status_code, response.headers.get("X-Backend"))


def answers_in_turn(url: str, count: int) -> list[Answer]:
    """Send `count` requests one after another on one keep-alive connection."""
    with session() as http:
        return [ask(http, url) for _ in range(count)]


def count_backends(answers: list[Answer]) -> Counter:
    return Counter(a.backend for a in answers)
