"""Lab 11's demonstration: the five algorithms labs 5 to 9 leave out, one frontend each."""

import socket
import time
from concurrent.futures import ThreadPoolExecutor

from labkit.client import Traffic, answers_in_turn, count_backends
from labkit.demo import measured, table
from labkit.errors import LabkitError

SERVERS = ["app1", "app2", "app3"]
BACKENDS = {"hdr": "by_tenant", "url_param": "by_user", "hash": "by_session", "rdp": "rdp"}
COLUMNS = {"hdr": "hdr(X-Tenant)", "url_param": "url_param user", "hash": "hash req.cook(session)",
           "rdp": "rdp-cookie"}


def rdp_first_packet(user: str) -> bytes:
    """What an RDP client sends first: a TPKT header (version 3, then the packet's length),
    an X.224 Connection Request header (its length, code 0xE0, five zero bytes), and the
    line that names the user."""
    cookie = f"Cookie: mstshash={user}\r\n".encode()
    length = 4 + 7 + len(cookie)
    return bytes([3, 0, length >> 8, length & 0xFF, length - 5, 0xE0, 0, 0, 0, 0, 0]) + cookie


def rdp_connect(url: str, user: str, pause: float = 0.2) -> str:
    """One connection to the RDP frontend as `user`; the server that answered. The first
    packet leaves `pause` seconds after the connection is made, as it may from a client
    far away: HAProxy must wait for it to know the user."""
    host, port = url.removeprefix("tcp://").rsplit(":", 1)
    try:
        with socket.create_connection((host, int(port)), timeout=10) as connection:
            time.sleep(pause)
            connection.sendall(rdp_first_packet(user))
            answer = b""
            while chunk := connection.recv(4096):
                answer += chunk
    except OSError as error:
        raise LabkitError(f"no answer from the RDP frontend at {url} for {user}: {error}") from None
    words = answer.decode(errors="replace").split()
    if not words:
        raise LabkitError(f"the RDP frontend at {url} closed the connection without an answer")
    return words[0]


def weights_of(lab, backend: str) -> dict[str, int]:
    rows = [line.split() for line in lab.runtime_api(f"show servers state {backend}").splitlines()[2:]]
    return {row[3]: int(row[7]) for row in rows if len(row) > 7}  # srv_name, srv_uweight


def said(answer: str) -> str:
    return answer.strip() or "(nothing: done)"


def both_turn(lab, say, n: int, when: str, headings: list[str], out: dict) -> None:
    """n requests to static-rr and to roundrobin; the counts go into out[f"{backend} {when}"]."""
    for backend in ("static_rr", "roundrobin"):
        url = lab.frontends[f"{backend}_front"] + "/"
        _, seen, counted = measured(lab, backend, lambda: answers_in_turn(url, n))
        out[f"{backend} {when}"] = (seen, counted)
    static_rr, roundrobin = out[f"static_rr {when}"], out[f"roundrobin {when}"]
    say(table(["server", *headings, "HAProxy lbtot (static-rr, roundrobin)"],
              [[s, static_rr[0][s], roundrobin[0][s], f"{static_rr[1][s]}, {roundrobin[1][s]}"] for s in SERVERS]))


def turns(lab, say, n: int) -> dict:
    """static-rr and roundrobin with every weight 1; then a weight changed while they run."""
    out = {}
    say(f"\n1 · static-rr and roundrobin. {n} requests to each, every weight 1:")
    both_turn(lab, say, n, "before", ["static-rr", "roundrobin"], out)
    try:
        say("\nThrough the Runtime API (the stats socket), app1's weight goes to 3 in both:")
        for backend in ("roundrobin", "static_rr"):
            answer = lab.runtime_api(f"set weight {backend}/app1 3")
            out[f"{backend} answer"] = answer.strip()
            say(f"  set weight {backend}/app1 3\n    HAProxy: {said(answer)}")
        answer = lab.runtime_api("set weight static_rr/app1 0%")
        out["static_rr 0% answer"] = answer.strip()
        say(f"  set weight static_rr/app1 0%   (what static-rr does take)\n    HAProxy: {said(answer)}")
        say(f"\n{n} requests to each again:")
        both_turn(lab, say, n, "after", ["static-rr (app1 0%)", "roundrobin (app1 3)"], out)
    finally:
        try:
            lab.runtime_api("set weight roundrobin/app1 1")
            lab.runtime_api("set weight static_rr/app1 100%")
        except LabkitError as error:  # say it, but not instead of what went wrong before
            say(f"  (app1's weights could not be put back: {error})")
    say("(Both weights are back to 1.) roundrobin took weight 3 at once: 3 of every 5 requests.\n"
        "static-rr refused it, and took only 0% or 100%: its turns are worked out once, at start.")
    return out


def first(lab, say, n: int, at_once: int, spacing: float, hold: float) -> dict:
    url = lab.frontends["first_front"]
    say(f"\n2 · first, with maxconn 2 on each server. {n} requests one after another:")
    _, in_turn, in_turn_counted = measured(lab, "first", lambda: answers_in_turn(url + "/", n))
    say(table(["server", "client saw", "HAProxy lbtot"], [[s, in_turn[s], in_turn_counted[s]] for s in SERVERS]))
    say(f"Now {at_once} at once ({spacing * 1000:g} ms apart), each held {hold:g} s by its server "
        f"(GET /slow/{hold}):")
    with lab.counting("first") as counted:
        with Traffic(f"{url}/slow/{hold}", spacing, count=at_once) as traffic:
            traffic.wait_until_sent()
    at_once_seen, at_once_counted = count_backends([r.answer for r in traffic.sent]), counted["lbtot"]
    say(table(["server", "client saw", "HAProxy lbtot"],
              [[s, at_once_seen[s], at_once_counted[s]] for s in SERVERS]))
    say("One at a time, app1 always has a free slot and takes everything. At once, app1 takes\n"
        "its 2, then app2 its 2, and app3 gets work only when both are full.")
    return {"in turn": (in_turn, in_turn_counted), "at once": (at_once_seen, at_once_counted),
            "sent at once": traffic.sent}


def keyed(lab, say, keys: list[str], n: int) -> dict:
    """Each key sent three times to each hashing frontend; then requests with no key."""
    base = {name: url + "/" for name, url in lab.frontends.items()}
    asks = {
        "hdr": lambda key: answers_in_turn(base["hdr_front"], 3, headers={"X-Tenant": key}),
        "url_param": lambda key: answers_in_turn(f"{base['url_param_front']}?user={key}", 3),
        "hash": lambda key: answers_in_turn(base["hash_front"], 3, headers={"Cookie": f"session={key}"}),
    }
    out = {}
    say(f"\n3 · Hashing a key. {len(keys)} keys, each sent 3 times to each frontend: as the X-Tenant\n"
        "header, as ?user=, as the session cookie, and as a Remote Desktop user (mstshash):")
    for algorithm, ask in asks.items():
        with lab.counting(BACKENDS[algorithm]) as counted:
            servers_of = {key: {a.backend for a in ask(key)} for key in keys}
        out[algorithm] = {"servers of": servers_of, "counted": counted["lbtot"]}
    url = lab.frontends["rdp_cookie_front"]
    with lab.counting("rdp") as counted:
        with ThreadPoolExecutor(3 * len(keys)) as pool:  # each waits before it sends: all at once
            picks = list(pool.map(lambda key: (key, rdp_connect(url, key)), [k for k in keys for _ in range(3)]))
    rdp_servers = {key: {server for k, server in picks if k == key} for key in keys}
    out["rdp"] = {"servers of": rdp_servers, "counted": counted["lbtot"]}
    say(table(["key", *COLUMNS.values()],
              [[key, *(", ".join(sorted(out[a]["servers of"][key])) for a in COLUMNS)] for key in keys]))
    kept = all(len(s) == 1 for a in COLUMNS for s in out[a]["servers of"].values())
    spread = all(len(set().union(*out[a]["servers of"].values())) == 3 for a in COLUMNS)
    say(f"{'Every key kept one server' if kept else 'Some keys reached more than one server'}, and "
        f"{'each column holds all three' if spread else 'not every column holds all three'}. The columns\n"
        "agree: one hash function, of the same string, over three servers of weight 1 (rdp1 stands\n"
        "where app1 does in its own backend).")
    say(f"\n{n} requests without a key to each HTTP frontend:")
    for algorithm in asks:
        _, seen, counted = measured(lab, BACKENDS[algorithm], lambda: answers_in_turn(base[f"{algorithm}_front"], n))
        out[algorithm]["without"] = (seen, counted)
    say(table(["server", *(COLUMNS[a] for a in asks), "HAProxy lbtot"],
              [[s, *(out[a]["without"][0][s] for a in asks), ", ".join(str(out[a]["without"][1][s]) for a in asks)]
               for s in SERVERS]))
    say("With no key to hash, all three fall back to round robin.")
    return out


def demo(lab, say=print):
    settings = lab.lab.manifest["demo"]
    n, keys = settings["requests"], settings["keys"]
    measured_here = {
        "turns": turns(lab, say, n),
        "first": first(lab, say, n, settings["at_once"], settings["spacing"], settings["hold"]),
        **keyed(lab, say, keys, n),
    }
    say("\nExpected: app1 fills before app2, which fills before app3; a key always reaches the same server\n"
        "and the keys spread over all three; requests without a key take turns. The hashes are of the\n"
        "keys alone: every run, in both runtimes, puts each key on the same server.")
    return measured_here
