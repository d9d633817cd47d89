"""Lab 8's exercise: one_draw sends the slow server at most 225 of 1000 requests.

The bound is lab 8's own (its test_two_draws_spare_the_slow_server says why): with one
draw the slow server's count falls below 234 at most once in two million checks; with two
draws, allowing each request at most a 0.16 chance of landing on it (measured: 0.09 to
0.12), it goes above 225 at most as rarely. So the untouched config fails this check and a
second draw passes it, both all but surely."""

from labkit import bounds
from labkit.client import answers_concurrently, count_backends
from labkit.exercises import Problem, same_server_lines

REQUESTS, CLIENTS = 1000, 8

MAY_CHANGE = {"backend one_draw"}


def must_stay(reference: str, yours: str) -> list[str]:
    if not same_server_lines(reference, yours, "one_draw"):
        return [Problem("one_draw's `server` lines must stay as they are: the task is to change how HAProxy "
                        "picks among the same three servers, not their weights.",
                        closer="Put the three server lines back as the lab's config has them; what "
                               "changes is the `balance` line.")]
    return []


def check(lab) -> list[str]:
    ceiling = bounds.binomial_ceiling(REQUESTS, 0.16, 5e-7)
    seen = count_backends(answers_concurrently(lab.frontends["one_draw_front"] + "/", REQUESTS, CLIENTS))
    if seen["slow"] <= ceiling:
        return []
    return [Problem(
        f"The slow server answered {seen['slow']} of {REQUESTS} requests; the task asks for at most {ceiling}. "
        "Could random draw more than one server, and keep the better one?",
        closer="`balance random(2)` draws two servers and takes the one with fewer requests in "
               "progress: the slow server, always busy, seldom wins.")]
