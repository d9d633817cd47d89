"""Lab 4's exercise: the client at host 50 is refused, the one at host 20 is not."""

from labkit import stats
from labkit.exercises import Problem

MAY_CHANGE = {"frontend http_front"}


def check(lab) -> list[str]:
    problems = []
    with lab.clients(hosts=[50, 20]) as clients:
        blocked, allowed = clients.addresses
        denied_before = stats.frontend_counter(lab.stats_url, "http_front", "dreq")
        answer = clients.answers(blocked, "http_front", "/")[0]
        if answer.status != 403 or stats.frontend_counter(lab.stats_url, "http_front", "dreq") != denied_before + 1:
            problems.append(Problem(
                f"{blocked} still gets through (status {answer.status}). "
                + (other_runtimes_address(lab, blocked) or "An ACL can name a single address as well as a network."),
                closer="`acl from_one_client src 127.0.4.50 172.16.4.50` names the client in both runtimes; "
                       "`http-request deny if from_one_client` in http_front refuses it."))
        answer = clients.answers(allowed, "http_front", "/")[0]
        if answer.status != 200:
            problems.append(Problem(
                f"{allowed} is refused too (status {answer.status}): the rule catches more than one client.",
                closer="A network such as 127.0.4.0/24 holds 256 addresses: name the one address "
                       "alone (or as a /32), and check that the deny rule names only that ACL."))
    return problems


# The client at host 50 in each runtime (the task names both).
HOST_50 = {"local": "127.0.4.50", "docker": "172.16.4.50"}


def other_runtimes_address(lab, blocked: str) -> str:
    """A hint for a copy that names the other runtime's address only: it is right there,
    and this check runs here."""
    yours = lab.lab.config.read_text()
    others = [(name, address) for name, address in HOST_50.items()
              if name != lab.runtime.name and address in yours]
    if not others or blocked in yours:
        return ""
    name, address = others[0]
    where = "on your machine" if name == "local" else "in Docker"
    return (f"Your copy names {address}, the client's address {where}; this check runs in the "
            f"{lab.runtime.name} runtime, where the client is {blocked}. Name both, as the lab's "
            "own ACLs do for their networks.")
