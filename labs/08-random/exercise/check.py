"""Lab 8's exercise: one_draw sends the slow server at most 225 of 1000 requests.

The bound is lab 8's own (see its test_two_draws_spare_the_slow_server): with one draw the
slow server's count falls below 234 at most once in two million checks, and with two
draws it goes above 225 at most as rarely. So the untouched config fails this check and a
second draw passes it, both all but surely."""

from labkit import bounds
from labkit.client import answers_concurrently, count_backends

LAB_ENV = {"LAB8_SLOW_DELAY": "0.2"}
REQUESTS, CLIENTS = 1000, 8


def check(lab) -> list[str]:
    ceiling = bounds.binomial_ceiling(REQUESTS, 0.16, 5e-7)
    seen = count_backends(answers_concurrently(lab.frontends["one_draw_front"] + "/", REQUESTS, CLIENTS))
    if seen["slow"] <= ceiling:
        return []
    return [f"The slow server answered {seen['slow']} of {REQUESTS} requests; the task asks for at most {ceiling}. "
            "What does random do with the second server it draws?"]
