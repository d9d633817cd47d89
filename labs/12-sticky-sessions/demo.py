"""Lab 12's demonstration: a cookie, a stick table and a hash keep users on one server;
what each does when a server dies and comes back; and the uneven load persistence costs."""

import threading
import time
from collections import Counter

import requests

from labkit import runtimes
from labkit.client import answers_in_turn, session
from labkit.demo import one_server_each, table
from labkit.errors import LabkitError

SERVERS = ["app1", "app2", "app3"]
BACKENDS = {"table": ("table_front", "by_table"), "source": ("source_front", "by_source")}


def ask_with_cookie(http, url: str, cookie: str | None) -> tuple[int, str | None, str | None]:
    """One request that brings SERVERID=`cookie` (none if None), as a browser brings back
    what it was given: (status, the server that answered, the cookie the user holds after)."""
    response = http.get(url, headers={"Cookie": f"SERVERID={cookie}"} if cookie else {}, timeout=30)
    given = response.headers.get("Set-Cookie", "")
    if given.startswith("SERVERID="):
        cookie = given.split(";", 1)[0].removeprefix("SERVERID=")
    return response.status_code, response.headers.get("X-Backend"), cookie


def one_user(url: str, count: int, cookie: str | None = None) -> tuple[list[str], str | None]:
    """A browser's worth: `count` requests from a user who keeps the cookie it is given."""
    servers = []
    with session() as http:
        for _ in range(count):
            _, server, cookie = ask_with_cookie(http, url, cookie)
            servers.append(server)
    return servers, cookie


def table_entries(lab) -> dict[str, str]:
    """{client address: server} as the stick table holds them (`show table by_table`)."""
    entries = {}
    for line in lab.runtime_api("show table by_table").splitlines()[1:]:
        fields = dict(word.split("=", 1) for word in line.split()[1:] if "=" in word)
        if "key" in fields:
            entries[fields["key"]] = fields.get("server_key")
    return entries


def where(clients) -> dict[str, dict[str, str]]:
    """{"table"/"source": {client address: the server that answered its 2 requests}}."""
    return {name: one_server_each(runtimes.ask_every_client(clients, frontend, "/", 2))
            for name, (frontend, _) in BACKENDS.items()}


def moved(before: dict, after: dict) -> int:
    return sum(before[c] != after[c] for c in before)


class CookieUser:
    """One user's session, sending a request every `interval` seconds from a thread until
    stopped; each answer (or failure) is kept with the cookie the session held after it."""

    def __init__(self, url: str, interval: float, cookie: str):
        self.url, self.interval, self.cookie = url, interval, cookie
        self.http = None
        self.answers: list[tuple[str | None, str | None]] = []  # (server or None if failed, cookie after)
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run)

    def _run(self):
        while not self._stop.is_set():
            try:
                status, server, self.cookie = ask_with_cookie(self.http, self.url, self.cookie)
                self.answers.append((server if status == 200 else None, self.cookie))
                if status != 200:
                    self.failures.append(f"status {status}")
            except requests.RequestException as error:
                self.answers.append((None, self.cookie))
                self.failures.append(str(error))
            self._stop.wait(self.interval)

    def __enter__(self):
        self.http = session()
        self._thread.start()
        return self

    def wait_for_answers(self, count: int, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while len(self.answers) < count:
            if time.monotonic() > deadline:
                raise LabkitError(f"the cookie user had {len(self.answers)} answers after {timeout} s, not {count}")
            time.sleep(0.01)

    def stop(self):
        self._stop.set()
        self._thread.join()

    def __exit__(self, *exc):
        self.stop()
        self.http.close()
        return False


def demo(lab, say=print):
    settings = lab.lab.manifest["demo"]
    cookie_url = lab.frontends["cookie_front"] + "/"
    out = {}

    say("\n1 · A cookie. One user keeps the cookie HAProxy gives it and sends 6 requests; then 6 users\n"
        "without a cookie send one each:")
    out["kept"], out["kept cookie"] = one_user(cookie_url, 6)
    out["without"] = [a.backend for _ in range(6) for a in answers_in_turn(cookie_url, 1)]
    say(f"  with its cookie (SERVERID={out['kept cookie']}): {' '.join(out['kept'])}")
    say(f"  without:                    {' '.join(out['without'])}")

    heavy, light, users = settings["heavy"], settings["light"], settings["users"]
    counts = [heavy if i % 3 == 0 else light for i in range(users)]  # the first and the fourth are heavy
    say(f"\n2 · The trade. {users} users send {', '.join(map(str, counts))} requests, first keeping their "
        "cookies,\nthen the same requests with no cookie (round robin):")
    with lab.counting("by_cookie") as pinned_counted:
        pinned = [one_user(cookie_url, count) for count in counts]
    load_pinned = Counter(server for servers, _ in pinned for server in servers)
    with lab.counting("by_cookie") as free_counted:
        load_free = Counter(a.backend for count in counts for _ in range(count) for a in answers_in_turn(cookie_url, 1))
    say(table(["server", "users pinned", "with cookies", "without", "HAProxy lbtot (with, without)"],
              [[s, sum(servers[0] == s for servers, _ in pinned), load_pinned[s], load_free[s],
                f"{pinned_counted['lbtot'][s]}, {free_counted['lbtot'][s]}"] for s in SERVERS]))
    say("The two heavy users were dealt the same server. Persistence keeps them there, however\n"
        "busy it gets; without it, their requests would have taken turns with everyone's.")
    out.update(pinned=pinned, load_pinned=load_pinned, load_free=load_free,
               pinned_counted=pinned_counted["lbtot"], free_counted=free_counted["lbtot"])

    n = settings["clients"]
    with lab.clients(n) as clients:
        first, last = clients.addresses[0], clients.addresses[-1]
        say(f"\n3 · A stick table and a hash. {n} clients, {first} to {last}, send 2 requests each to each:")
        before = where(clients)
        entries = table_entries(lab)
        per_server = {name: Counter(got.values()) for name, got in before.items()}
        say(table(["server", "clients (stick table)", "clients (balance source)"],
                  [[s, per_server["table"][s], per_server["source"][s]] for s in SERVERS]))
        agree = sum(entries.get(c) == s for c, s in before["table"].items())
        say(f"Every client kept one server. The table holds {len(entries)} entries (show table by_table), "
            f"and\n{agree} of them name the server the client saw.")

        say("\n4 · app3 stops. A user whose cookie says app3 keeps sending requests until HAProxy marks it\n"
            "DOWN; then the clients ask again; then app3 starts, and once it is UP they ask once more.")
        backends = ["by_cookie", *(backend for _, backend in BACKENDS.values())]
        user = CookieUser(cookie_url, settings["interval"], "app3")

        def while_down():
            user.stop()
            return where(clients)

        with user:
            user.wait_for_answers(3)  # app3 answers it first, before the stop
            outage = lab.outage("app3", backends, during=while_down)
        during, after = outage.result, where(clients)
        last_cookie_server, last_cookie = user.answers[-1] if user.answers else (None, None)
        back, back_cookie = one_user(cookie_url, 1, last_cookie)
        back_server = back[0]
    servers_seen = [server for server, _ in user.answers]
    on_app3 = next((i for i, server in enumerate(servers_seen) if server != "app3"), len(servers_seen))
    say(f"  the cookie user: {len(user.answers)} requests, {len(user.failures)} failed; answered by app3 "
        f"{on_app3} times,\n  then by {last_cookie_server} {len(servers_seen) - on_app3} times; "
        f"its cookie now SERVERID={last_cookie}")
    say(table(["clients moved", "stick table", "balance source"],
              [["when app3 stopped", moved(before["table"], during["table"]), moved(before["source"], during["source"])],
               ["when app3 came back", moved(during["table"], after["table"]), moved(during["source"], after["source"])],
               ["away from their first server", moved(before["table"], after["table"]),
                moved(before["source"], after["source"])]]))
    say(f"(app3 was marked DOWN {outage.down - outage.stopped:.1f} s after it stopped.)")
    say(f"With app3 back, the cookie user is still answered by {back_server} (cookie SERVERID={back_cookie}).")
    say("Expected: the cookie and the table move only app3's users, and no request fails; the table\n"
        "and the cookie keep them where they moved, while the hash re-deals the keys twice.")
    out.update(clients=list(before["table"]), before=before, entries=entries, during=during, after=after,
               user_answers=user.answers, user_failures=user.failures, back=(back_server, back_cookie))
    return out

