"""Lab 7's exercise: stickiness by a cookie HAProxy sets; new clients spread."""

from labkit.client import ask, session
from labkit.exercises import Problem

MAY_CHANGE = {"backend by_source"}


def check(lab) -> list[str]:
    url = lab.frontends["http_front"] + "/"
    problems = []
    newcomers = set()
    for _ in range(6):
        with session() as http:
            newcomers.add(ask(http, url).backend)
    if len(newcomers) == 1:
        problems.append(Problem(
            f"Six new clients from your terminal all went to {newcomers.pop()}: the server is "
            "still chosen by the client's address.",
            closer="With a cookie to keep each client where it is, the `balance` that hands out new "
                   "clients can be plain turns: `balance roundrobin`."))
    with session() as http:
        first = ask(http, url).backend
        if not http.cookies:
            return problems + [Problem(
                "HAProxy set no cookie: the backend has to ask it to add one to its answers (the page's "
                "paragraph on cookies says what HAProxy must do with it).",
                closer="`cookie SERVERID insert indirect nocache` in the backend, and `cookie app1` "
                       "(app2, app3) at the end of each server line.")]
        later = {ask(http, url).backend for _ in range(8)}
    if later != {first}:
        problems.append(Problem(
            f"A client sending its cookie back went to {sorted(later | {first})}: it should stay on {first}.",
            closer="Each server line needs a `cookie` value of its own: the value HAProxy finds in the "
                   "cookie is how it knows the server."))
    return problems
