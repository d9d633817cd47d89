"""The one backend every lab runs: who it is and what it serves come from the environment.

    BACKEND_NAME  the name it answers with, in the X-Backend header and the body (the
                  compose service name: app1, app2, ...)
    PORT, BIND    where it listens (8000 on all addresses in a container; the kit's local
                  runtime gives each backend its own port on 127.0.0.1)
    DELAY         seconds to wait before answering anything but /healthz; a list such as
                  0.1,0.2,0.3 gives each request the next wait in turn, round and round
                  (lab 15's slow server: its waits vary, in the same measure every run)
    ROUTES        comma-separated names from ROUTE_CATALOGUE below
    THREADS       how many requests it serves at once
    PROTOCOL      http (the default), or rdp: a stand-in for a Remote Desktop server, which
                  answers a connection's first packet with its name (see serve_rdp_stand_in)

Run it as `python app.py`. Signals change how well it is, while its port stays open:
    SIGUSR1  /healthz fails (503) and everything else still answers: a server being drained
    SIGHUP   broken: every answer, /healthz's included, is a 500 (a lost database, say)
    SIGUSR2  well again
"""

import itertools
import os
import resource
import signal
import sys
import time

from flask import Flask, Response, jsonify, request


def text(body, status=200):
    return Response(body, status=status, mimetype="text/plain")


def hello(name):
    return text(f"Hello from {name}!\n")


def any_path(name, anything=""):
    return text(f"Hello from {name}! You asked for {request.method} /{anything}\n")


SLOWEST = 30.0  # seconds: a mistyped /slow/ must not hold a server's thread for hours


def slow(name, seconds):
    # Holds the request for a while: a server with `maxconn` fills up (lab 11's `first`).
    seconds = min(seconds, SLOWEST)
    time.sleep(seconds)
    return text(f"Hello from {name}, after {seconds:g} s!\n")


def static_file(name, path):
    return text(f"static file {path}, served by {name}\n")


def api_data(name):
    return jsonify(backend=name, workouts=[{"id": 1, "minutes": 30}, {"id": 2, "minutes": 45}])


def data(name):
    return jsonify(backend=name, items=[1, 2, 3])


def whoami(name):
    # What the backend was told about the client: lets a learner see what HAProxy forwarded.
    return jsonify(
        backend=name,
        method=request.method,
        path=request.full_path.rstrip("?"),
        client=request.remote_addr,
        headers=dict(request.headers),
    )


ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]

# route name -> (URL rules, methods, view)
ROUTE_CATALOGUE = {
    "hello": (["/"], ["GET"], hello),
    "data": (["/data"], ["GET"], data),
    "whoami": (["/whoami"], ["GET", "POST"], whoami),
    # every path and method: for labs where the path or the method picks the backend
    "any": (["/", "/<path:anything>"], ALL_METHODS, any_path),
    "static": (["/static/<path:path>"], ["GET"], static_file),
    "api": (["/api/data"], ["GET"], api_data),
    "slow": (["/slow/<float:seconds>", "/slow/<int:seconds>"], ["GET"], slow),
}
DEFAULT_ROUTES = "hello,data,whoami"


class BackendHeader:
    """WSGI middleware: every response, errors included, names the backend that sent it."""

    def __init__(self, wsgi_app, name):
        self.wsgi_app = wsgi_app
        self.name = name

    def __call__(self, environ, start_response):
        def start_with_header(status, headers, exc_info=None):
            headers = [(k, v) for k, v in headers if k.lower() != "x-backend"]
            headers.append(("X-Backend", self.name))
            return start_response(status, headers, exc_info)

        return self.wsgi_app(environ, start_with_header)


# /healthz answers 200 while "passing" holds, and nothing answers but 500 while "broken"
# does; the signal handlers in main() flip them.
HEALTH = {"passing": True, "broken": False}


def waits(delay) -> itertools.cycle:
    """DELAY's waits, in turn: "0.3" is 0.3 every time, "0.1,0.2" is 0.1, 0.2, 0.1, ..."""
    try:
        seconds = [float(wait) for wait in str(delay).split(",")]
    except ValueError:
        seconds = [-1.0]
    if min(seconds) < 0:
        raise SystemExit(f"DELAY={delay!r}: give seconds, or seconds separated by commas (0.1,0.2)")
    return itertools.cycle(seconds)


def create_app(name, delay=0.0, routes=DEFAULT_ROUTES):
    next_wait = waits(delay)
    wanted = [r.strip() for r in routes.split(",") if r.strip()]
    unknown = sorted(set(wanted) - set(ROUTE_CATALOGUE))
    if unknown:
        raise SystemExit(
            f"ROUTES names unknown routes {unknown}; known: {sorted(ROUTE_CATALOGUE)}"
        )

    # No static folder of Flask's own: /static/... is a route some labs give a backend.
    app = Flask(__name__, static_folder=None)

    @app.get("/healthz")
    def healthz():
        if not HEALTH["passing"]:
            return text("failing on purpose (SIGUSR1; SIGUSR2 to pass again)\n", 503)
        return text("ok\n")

    @app.before_request
    def artificial_delay():
        if HEALTH["broken"]:
            return text(f"{name} is broken on purpose (SIGHUP; SIGUSR2 to mend it)\n", 500)
        if request.path != "/healthz":
            # next() of a cycle is one step under the GIL: each request, in any thread,
            # takes the next wait of the list.
            wait = next(next_wait)
            if wait:
                time.sleep(wait)

    @app.errorhandler(404)
    def not_here(error):
        return text(f"{name} does not serve {request.path}\n", 404)

    for route in wanted:
        rules, methods, view = ROUTE_CATALOGUE[route]
        for number, rule in enumerate(rules):
            app.add_url_rule(rule, f"{route}{number}", lambda view=view, **kw: view(name, **kw), methods=methods)

    app.wsgi_app = BackendHeader(app.wsgi_app, name)
    return app


# A proxy keeps a server's connections open after their requests, to use them again:
# HAProxy, after a burst such as a server coming back UP, can hold a hundred of them idle.
# At waitress's default limit of 100 open connections the backend stopped accepting new
# ones and its requests hung (lab 10 under Docker); this many leaves ample room.
CONNECTION_LIMIT = 1000
SPARE_FILES = 64  # the process's own files: its listening socket, logs, Python's modules

# waitress sends a response's headers the moment they are written and its body after, in a
# second send. A server killed between the two leaves HAProxy holding half an answer it has
# already passed on, which no retry can mend (lab 10 saw one such request cut short in a
# few thousand). Holding output until this many bytes, or the end of the response, sends
# each of the kit's small answers whole: a kill lands before it, and HAProxy retries, or
# after it. (waitress calls the setting deprecated; the pinned 3.0.2 and Debian's 2.1.2
# have it.)
SEND_WHOLE_BELOW = 64 * 1024


def connection_limit(wanted: int = CONNECTION_LIMIT) -> int:
    """Raise this process's open-file limit toward `wanted` connections (the hard limit
    may cap it, as on a machine that allows few files) and return how many fit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = wanted + SPARE_FILES
    if soft != resource.RLIM_INFINITY and soft < needed:
        soft = needed if hard == resource.RLIM_INFINITY else min(hard, needed)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    return wanted if soft == resource.RLIM_INFINITY else min(wanted, soft - SPARE_FILES)


def rdp_cookie(first_packet: bytes) -> str | None:
    """The mstshash value of an RDP client's first packet: after the 4-byte TPKT header and
    the 7-byte X.224 Connection Request header, a line "Cookie: mstshash=NAME\\r\\n"."""
    line = first_packet[11:].split(b"\r\n", 1)[0]
    prefix = b"Cookie: mstshash="
    return line[len(prefix):].decode("latin-1") if first_packet[:1] == b"\x03" and line.startswith(prefix) else None


def serve_rdp_stand_in(name: str, host: str, port: int) -> None:
    """A TCP server in place of a Remote Desktop one. A real server answers in binary and
    goes on to a session; this one answers the first packet with a line naming itself and
    the cookie it got, "rdp1 mstshash=alice", and closes. GET /healthz is answered as HTTP,
    for the kit's and Docker's health probes; TCP checks only connect."""
    import socketserver

    class FirstPacket(socketserver.BaseRequestHandler):
        def handle(self):
            self.request.settimeout(5)
            received = b""
            try:
                while b"\r\n" not in received and len(received) < 4096:
                    chunk = self.request.recv(4096)
                    if not chunk:
                        return  # a TCP check: connected, sent nothing, gone
                    received += chunk
                if received.startswith(b"GET /healthz "):
                    body, status = (b"ok\n", b"200 OK") if HEALTH["passing"] and not HEALTH["broken"] else (b"failing\n", b"503 Service Unavailable")
                    self.request.sendall(b"HTTP/1.0 " + status + b"\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
                else:
                    cookie = rdp_cookie(received)
                    self.request.sendall(f"{name} mstshash={cookie if cookie is not None else '(none)'}\n".encode())
            except OSError:
                pass  # the client went away: nothing to answer

    class Server(socketserver.ThreadingTCPServer):
        allow_reuse_address = True
        daemon_threads = True

    with Server((host, port), FirstPacket) as server:
        server.serve_forever()


def main(argv):
    env = os.environ
    port = int(env.get("PORT", "8000"))
    if argv[1:]:
        raise SystemExit(f"usage: {argv[0]} (it takes no arguments; the environment sets it up)")

    import waitress

    # As PID 1 in a container, Python would ignore SIGTERM and `docker stop` would wait
    # out its timeout; end at once instead.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    signal.signal(signal.SIGUSR1, lambda signum, frame: HEALTH.update(passing=False))
    signal.signal(signal.SIGHUP, lambda signum, frame: HEALTH.update(broken=True))
    signal.signal(signal.SIGUSR2, lambda signum, frame: HEALTH.update(passing=True, broken=False))
    name = env.get("BACKEND_NAME", "app")
    if env.get("PROTOCOL", "http") == "rdp":
        print(f"{name} (an RDP stand-in) listening on {env.get('BIND', '0.0.0.0')}:{port}", flush=True)
        serve_rdp_stand_in(name, env.get("BIND", "0.0.0.0"), port)
        return 0
    app = create_app(name, env.get("DELAY", "0"), env.get("ROUTES", DEFAULT_ROUTES))
    print(f"{name} listening on {env.get('BIND', '0.0.0.0')}:{port}", flush=True)
    waitress.serve(
        app,
        host=env.get("BIND", "0.0.0.0"),
        port=port,
        threads=int(env.get("THREADS", "64")),
        connection_limit=connection_limit(),
        send_bytes=SEND_WHOLE_BELOW,
        ident=name,
        # waitress drops X-Forwarded-* by default; keep them so /whoami shows what HAProxy added.
        clear_untrusted_proxy_headers=False,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
