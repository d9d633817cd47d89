"""Lab 14's exercise: the burst is all answered, through the queue, with maxconn 2 kept."""

from labkit.client import answers_concurrently
from labkit.exercises import Problem, same_server_lines
from labkit.labs import find_lab

MAY_CHANGE = {"backend queued"}
SETTINGS = find_lab(14).manifest["demo"]


def must_stay(reference: str, yours: str) -> list[str]:
    if not same_server_lines(reference, yours, "queued"):
        return [Problem("queued's `server` lines must stay as they are, `maxconn 2` included: the apps "
                        "cannot take more at once, and the task is to let the rest wait for them.",
                        closer="Put the three server lines back as the lab's config has them; what changes "
                               "is how long a request may wait in the queue.")]
    return []


def check(lab) -> list[str]:
    count, hold = SETTINGS["burst"], SETTINGS["hold"]
    answers = answers_concurrently(lab.frontends["queue_front"] + f"/slow/{hold}", count, count)
    refused = [a for a in answers if a.status != 200]
    if not refused and ({a.backend for a in answers} - {"app1", "app2", "app3"}
                        or sum(a.seconds >= hold for a in answers) < count):
        return [Problem(
            "Every request was answered, but not by the apps after their hold: the burst must still reach "
            "app1 to app3, each request taking its second there.",
            closer="Leave the requests to the servers; what changes is only how long a request may "
                   "wait in HAProxy's queue before it gets a 503.")]
    if refused:
        return [Problem(
            f"{len(refused)} of the {count} requests were refused ({refused[0].status}) after "
            f"{max(a.seconds for a in refused):.1f} s: they waited in the queue longer than it allows.",
            closer=f"Six are served at once, six after {hold} s, the last three after {2 * hold} s: "
                   f"`timeout queue` must be longer than {2 * hold} s, with room to spare (say 3s).")]
    return []
