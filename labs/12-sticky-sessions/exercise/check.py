"""Lab 12's exercise: a stick table keyed on the session cookie, not on the address."""

from collections import Counter

from labkit.client import answers_in_turn
from labkit.exercises import Problem

MAY_CHANGE = {"backend by_table"}
USERS = [f"user{i}" for i in range(1, 7)]


def check(lab) -> list[str]:
    url = lab.frontends["table_front"] + "/"
    servers_of = {user: {a.backend for a in answers_in_turn(url, 3, headers={"Cookie": f"session={user}"})}
                  for user in USERS}
    split = {user: sorted(servers) for user, servers in servers_of.items() if len(servers) > 1}
    if split:
        user, servers = next(iter(split.items()))
        return [Problem(
            f"{len(split)} of {len(USERS)} users reached more than one server: {user} went to {', '.join(servers)}.",
            closer="A table keyed on something that is not in every request of a user cannot keep them: "
                   "`stick on req.cook(session)`, with a table whose type holds a string.")]
    used = Counter(next(iter(servers)) for servers in servers_of.values())
    if len(used) == 1:
        return [Problem(
            f"All {len(USERS)} users, from your one address, went to {next(iter(used))}: the table is still "
            "keyed on the address.",
            closer="`stick on req.cook(session)` keys it on the cookie; the table's `type` must then be "
                   "`string` (with a `len`), not `ip`.")]
    return []
