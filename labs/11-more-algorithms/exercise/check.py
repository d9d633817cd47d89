"""Lab 11's exercise: every spelling of a tenant's name reaches the same server."""

from collections import Counter

from labkit.client import answers_in_turn
from labkit.exercises import Problem

MAY_CHANGE = {"backend by_tenant"}
TENANTS = ["acme", "globex", "initech", "umbrella", "hooli", "stark", "wayne", "tyrell", "cyberdyne", "wonka",
           "oscorp", "soylent"]


def spellings(name: str) -> list[str]:
    return [name, name.upper(), name.capitalize()]


def check(lab) -> list[str]:
    url = lab.frontends["hdr_front"] + "/"
    servers_of = {name: {a.backend for spelling in spellings(name)
                         for a in answers_in_turn(url, 2, headers={"X-Tenant": spelling})} for name in TENANTS}
    problems = []
    split = {name: sorted(servers) for name, servers in servers_of.items() if len(servers) > 1}
    if split:
        name, servers = next(iter(split.items()))
        problems.append(Problem(
            f"{len(split)} of {len(TENANTS)} tenants reached more than one server: {', '.join(spellings(name))} "
            f"went to {', '.join(servers)}.",
            closer="`hdr()` hashes the header as sent. `balance hash` takes any sample expression, "
                   "converters included: `req.hdr(X-Tenant)` followed by a converter that makes the case "
                   "the same (section 7.3.1 of the manual lists them)."))
        return problems
    used = Counter(next(iter(servers)) for servers in servers_of.values())
    if len(used) < 3:
        problems.append(Problem(
            f"Every tenant reached {', '.join(sorted(used))}: the tenants no longer spread over app1, app2 and app3.",
            closer="Hash the tenant's name itself, made lower case, not something all requests share."))
    return problems
