"""The one backend app: who it says it is, on every response, and what it serves."""

import http.client
import importlib.util
import os
import re
import socket
import sys
import time

import pytest

from labkit import paths
from labkit.labs import find_lab
from labkit.runtimes.local import free_ports, running_process, spawn, stop_processes, wait_healthy

spec = importlib.util.spec_from_file_location("backend_app", paths.BACKEND_APP)
backend_app = importlib.util.module_from_spec(spec)
spec.loader.exec_module(backend_app)


@pytest.fixture
def client():
    return backend_app.create_app("app7", routes="hello,whoami").test_client()


def test_it_names_itself_in_the_header_and_the_body(client):
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["X-Backend"] == "app7"
    assert response.text == "Hello from app7!\n"


@pytest.mark.parametrize("method, path, status", [("GET", "/data", 404), ("DELETE", "/", 405)])
def test_errors_carry_the_header_too(client, method, path, status):
    response = client.open(path, method=method)
    assert response.status_code == status
    assert response.headers["X-Backend"] == "app7"


def test_whoami_shows_the_headers_the_backend_was_given(client):
    response = client.get("/whoami", headers={"X-Forwarded-Proto": "https"})
    assert response.json["backend"] == "app7"
    assert response.json["headers"]["X-Forwarded-Proto"] == "https"


def test_only_the_routes_asked_for_are_served():
    client = backend_app.create_app("app1", routes="data").test_client()
    assert client.get("/data").status_code == 200
    assert client.get("/").status_code == 404
    assert client.get("/healthz").status_code == 200


def test_a_broken_app_answers_500_to_everything_and_still_names_itself():
    """Up but broken (lab 13): the port answers, the app does not."""
    client = backend_app.create_app("app3").test_client()
    try:
        backend_app.HEALTH["broken"] = True
        for path in ("/", "/healthz", "/data"):
            response = client.get(path)
            assert (response.status_code, response.headers["X-Backend"]) == (500, "app3"), path
    finally:
        backend_app.HEALTH["broken"] = False
    assert client.get("/").status_code == client.get("/healthz").status_code == 200


def test_an_unknown_route_name_is_refused():
    with pytest.raises(SystemExit, match="unknown routes"):
        backend_app.create_app("app1", routes="hello,nope")


def test_the_delay_holds_every_answer_but_the_health_check():
    client = backend_app.create_app("slow", delay=0.3).test_client()
    began = time.monotonic()
    client.get("/healthz")
    assert time.monotonic() - began < 0.2
    began = time.monotonic()
    client.get("/")
    assert time.monotonic() - began >= 0.3


def test_a_list_of_delays_gives_each_request_the_next_in_turn():
    client = backend_app.create_app("slow", delay="0.1,0,0.2").test_client()
    took = []
    for _ in range(6):
        began = time.monotonic()
        client.get("/")
        took.append(time.monotonic() - began)
    for wanted, seconds in zip([0.1, 0, 0.2] * 2, took):
        assert wanted <= seconds < wanted + 0.05, took


@pytest.mark.parametrize("delay", ["-1", "0.1,,0.2", "soon"])
def test_a_delay_that_is_not_seconds_is_refused(delay):
    with pytest.raises(SystemExit, match=f"DELAY='{delay}'"):
        backend_app.create_app("slow", delay=delay)


def test_any_answers_every_path_and_method():
    client = backend_app.create_app("app2", routes="any").test_client()
    response = client.get("/video/42?quality=hd")
    assert response.status_code == 200
    assert response.text == "Hello from app2! You asked for GET /video/42\n"
    assert client.post("/").text == "Hello from app2! You asked for POST /\n"


def test_static_and_api_routes():
    client = backend_app.create_app("static", routes="static,api").test_client()
    assert client.get("/static/logo.png").text == "static file logo.png, served by static\n"
    assert client.get("/api/data").json["backend"] == "static"
    assert client.get("/").status_code == 404


def test_health_can_be_made_to_fail_while_the_rest_still_answers():
    client = backend_app.create_app("app2").test_client()
    try:
        backend_app.HEALTH["passing"] = False
        assert client.get("/healthz").status_code == 503
        assert client.get("/").status_code == 200
    finally:
        backend_app.HEALTH["passing"] = True
    assert client.get("/healthz").status_code == 200


def test_slow_holds_the_request_as_long_as_asked_and_no_longer_than_its_cap(monkeypatch):
    slept = []
    monkeypatch.setattr(backend_app.time, "sleep", slept.append)
    client = backend_app.create_app("app1", routes="any,slow").test_client()
    assert client.get("/slow/1.0").text == "Hello from app1, after 1 s!\n"
    assert client.get("/slow/2").text == "Hello from app1, after 2 s!\n"
    assert client.get("/slow/86400").status_code == 200
    assert slept == [1.0, 2, backend_app.SLOWEST]
    assert client.get("/slowly").text == "Hello from app1! You asked for GET /slowly\n"


def test_the_rdp_cookie_is_read_after_the_tpkt_and_x224_headers():
    packet = find_lab(11).load("demo").rdp_first_packet("alice")
    assert packet[:4] == bytes([3, 0, 0, len(packet)])
    assert backend_app.rdp_cookie(packet) == "alice"
    assert backend_app.rdp_cookie(b"GET / HTTP/1.0\r\n") is None


def test_the_rdp_stand_in_answers_a_first_packet_and_the_health_probe(tmp_path):
    port, = free_ports(1)
    server = spawn([sys.executable, paths.BACKEND_APP], {**os.environ, "BACKEND_NAME": "rdp1", "BIND": "127.0.0.1",
                                                         "PORT": str(port), "PROTOCOL": "rdp"}, tmp_path / "rdp1.log")
    try:
        wait_healthy({"rdp1": {**server, "url": f"http://127.0.0.1:{port}"}}, time.monotonic() + 30)
        rdp_connect = find_lab(11).load("demo").rdp_connect
        assert rdp_connect(f"tcp://127.0.0.1:{port}", "alice", pause=0) == "rdp1"
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            pass  # a TCP check: connects and leaves; the server carries on
        with socket.create_connection(("127.0.0.1", port), timeout=5) as connection:
            connection.sendall(b"GET /healthz HTTP/1.0\r\n\r\n")
            assert connection.makefile("rb").readline() == b"HTTP/1.0 200 OK\r\n"
    finally:
        stop_processes([process for process in [running_process(server)] if process])


@pytest.fixture
def real_server(tmp_path):
    """The backend as the kit runs it, under waitress: app1 on a free port of 127.0.0.1."""
    port, = free_ports(1)
    server = spawn([sys.executable, paths.BACKEND_APP],
                   {**os.environ, "BACKEND_NAME": "app1", "BIND": "127.0.0.1", "PORT": str(port)}, tmp_path / "app1.log")
    try:
        wait_healthy({"app1": {**server, "url": f"http://127.0.0.1:{port}"}}, time.monotonic() + 30)
        yield port
    finally:
        stop_processes([process for process in [running_process(server)] if process])


def test_the_real_server_still_answers_while_a_proxy_holds_many_connections_idle(real_server):
    # HAProxy keeps a server's connections open after their requests to use them again.
    # At waitress's default limit of 100 the backend stopped accepting, and requests hung.
    held = []
    try:
        for _ in range(150):
            connection = http.client.HTTPConnection("127.0.0.1", real_server, timeout=3)
            held.append(connection)
            connection.request("GET", "/")
            assert connection.getresponse().read() == b"Hello from app1!\n"
        # Every one of them is still open, idle, kept alive; one more comes.
        one_more = http.client.HTTPConnection("127.0.0.1", real_server, timeout=3)
        held.append(one_more)
        one_more.request("GET", "/")
        assert one_more.getresponse().status == 200
    finally:
        for connection in held:
            connection.close()


@pytest.mark.parametrize("path", ["/", "/whoami"])
def test_the_real_server_sends_each_answer_whole(real_server, path):
    # A server killed between sending an answer's headers and its body cuts a request that
    # HAProxy has begun to pass on and cannot retry (lab 10). Sent whole, a small answer
    # arrives over loopback as one segment, so the first read after the request holds all
    # of it. Sent in two pieces, as waitress does by default, about half the first reads
    # held only the headers: 108 of 200.
    with socket.create_connection(("127.0.0.1", real_server), timeout=3) as connection:
        for attempt in range(200):
            connection.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
            first_read = connection.recv(1 << 16)
            head, _, body = first_read.partition(b"\r\n\r\n")
            length = int(re.search(rb"(?im)^content-length: *(\d+)", head)[1])
            assert len(body) == length, (attempt, first_read)
