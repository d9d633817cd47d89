"""Lab 3's exercise: /api/ through api_backend, over HTTP and HTTPS; the rest unchanged."""

from labkit import stats
from labkit.exercises import Problem
from labkit.labs import find_lab

lab3 = find_lab(3).load("demo")
EXPECTED = {"/api/data": ("dynamic", "api_backend"), "/": ("dynamic", "dynamic_backend"),
            "/static/logo.png": ("static", "static_backend")}

MAY_CHANGE = {"frontend http_front", "frontend https_front", "backend api_backend"}


def check(lab) -> list[str]:
    backends = {row["pxname"] for row in stats.rows(lab.stats_url)}
    if "api_backend" not in backends:
        return [Problem("HAProxy has no backend called api_backend yet: the task asks for a new one.",
                        closer="Copy the backend of the `dynamic` app under the name api_backend, then "
                               "send /api/ to it in each frontend with `use_backend ... if { path_beg /api/ }`.")]
    problems = []
    for frontend, scheme in (("http_front", "HTTP"), ("https_front", "HTTPS")):
        for path, (server, backend) in EXPECTED.items():
            with lab.counting(backend) as counted:
                answered = lab3.who_answers(lab, frontend, path)
            if sum(counted["lbtot"].values()) != 1 or not answered.startswith(server + " "):
                problems.append(Problem(
                    f"over {scheme}, {path} did not go through {backend} to {server} "
                    f"(it was answered by {answered}). Does each frontend have the rule, in the right order?",
                    closer="HAProxy takes the first `use_backend` whose condition holds: put the /api/ rule "
                           "above any rule that also matches /api/..., in http_front and in https_front."))
    return problems
