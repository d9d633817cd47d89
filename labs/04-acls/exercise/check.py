"""Lab 4's exercise: the client at host 50 is refused, the one at host 20 is not."""

from labkit import stats

MAY_CHANGE = {"frontend http_front"}


def check(lab) -> list[str]:
    problems = []
    with lab.clients(hosts=[50, 20]) as clients:
        blocked, allowed = clients.addresses
        denied_before = stats.frontend_counter(lab.stats_url, "http_front", "dreq")
        answer = clients.answers(blocked, "http_front", "/")[0]
        if answer.status != 403 or stats.frontend_counter(lab.stats_url, "http_front", "dreq") != denied_before + 1:
            problems.append(f"{blocked} still gets through (status {answer.status}). "
                            "An ACL can name a single address as well as a network.")
        answer = clients.answers(allowed, "http_front", "/")[0]
        if answer.status != 200:
            problems.append(f"{allowed} is refused too (status {answer.status}): the rule catches more than one client.")
    return problems
