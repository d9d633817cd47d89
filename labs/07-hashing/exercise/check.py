"""Lab 7's exercise: stickiness by a cookie HAProxy sets; new clients spread."""

from labkit.client import ask, session

MAY_CHANGE = {"backend by_source"}


def check(lab) -> list[str]:
    url = lab.frontends["http_front"] + "/"
    problems = []
    newcomers = set()
    for _ in range(6):
        with session() as http:
            newcomers.add(ask(http, url).backend)
    if len(newcomers) == 1:
        problems.append(f"Six new clients from your terminal all went to {newcomers.pop()}: the server is "
                        "still chosen by the client's address.")
    with session() as http:
        first = ask(http, url).backend
        if not http.cookies:
            return problems + ["HAProxy set no cookie. Look at the `cookie` keyword of a backend, and of a server line."]
        later = {ask(http, url).backend for _ in range(8)}
    if later != {first}:
        problems.append(f"A client sending its cookie back went to {sorted(later | {first})}: it should stay on {first}.")
    return problems
