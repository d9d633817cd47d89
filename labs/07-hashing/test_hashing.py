"""Lab 7, hashing: the same key, the same server; and what consistent hashing keeps still
when a server goes away.

Hashing is not random: the same addresses and paths go to the same servers every run.
The clients' addresses are fixed (127.0.7.10-49 locally, .10-.49 of the lab's subnet
under Docker), so these tests see the same numbers each time. Where a claim would only
hold by luck for other addresses, the bound says how likely that luck is."""

from collections import Counter

from labkit.checks import *  # noqa: F401,F403 (the checks every lab runs)
from labkit.labs import find_lab

lab7 = find_lab(7).load("demo")
SERVERS = {"app1", "app2", "app3"}
CLIENTS = 40


# The 40 clients' requests, and app3's outage, are those `make lab-7` shows (demo_run):
# under Docker each client is a container, made one at a time (see DockerClients), and
# making them twice took longer than the requests.


def test_each_client_address_sticks_to_one_server_and_all_servers_get_some(demo_run):
    answers = demo_run.measured["answers"]
    assert len(answers) == CLIENTS
    for address, got in answers.items():
        assert len({a.backend for a in got}) == 1, (address, got)
    # Were the hash a random function of the address, some server would get none of the
    # 40 clients with probability 3 * (2/3)^40 = 3e-7.
    assert {got[0].backend for got in answers.values()} == SERVERS
    seen = Counter(a.backend for got in answers.values() for a in got)
    assert demo_run.measured["counted"] == seen


def test_a_path_keeps_its_server_whatever_the_query_string(lab):
    paths = [f"/video/{i}" for i in range(40)]
    servers_of = lab7.who_serves_paths(lab, paths)
    for path, servers in servers_of.items():
        assert len(servers) == 1, (path, servers)
    # Different paths spread: all three servers appear (3e-7 by chance, as above).
    assert set().union(*servers_of.values()) == SERVERS


def test_taking_a_server_out_moves_only_its_clients_with_consistent_hashing(demo_run):
    before, after = demo_run.measured["before"], demo_run.measured["after"]

    # Consistent hashing: removing app3's points from the ring changes nothing for keys
    # that landed on the others' points. Exactly app3's clients move, and only they.
    consistent_moved = {c for c in before["consistent"] if before["consistent"][c] != after["consistent"][c]}
    assert consistent_moved == {c for c, s in before["consistent"].items() if s == "app3"}
    assert "app3" not in after["consistent"].values()

    # Map-based: server = hash mod 3 before, hash mod 2 after; a client keeps its server
    # only when the two agree, for 2 of every 6 hash values, so about 2/3 move. For these
    # fixed addresses that is 26 of 40 on HAProxy 2.6 in both runtimes, the same every run. (For random
    # addresses, 20 or fewer of 40 would move 1.4% of the time: this claim rests on the
    # fixed addresses, not on luck.)
    map_moved = [c for c in before["map-based"] if before["map-based"][c] != after["map-based"][c]]
    assert len(map_moved) > CLIENTS / 2, len(map_moved)
    assert any(before["map-based"][c] != "app3" for c in map_moved)

    # app3 is back, and with consistent hashing its clients return to it.
    assert demo_run.measured["back"] == before["consistent"]
