"""Lab 3, layer-7 routing and TLS: the path picks the backend, over HTTP and HTTPS alike,
and the backend learns which one the client used."""

import os

import pytest
import requests

from labkit.checks import *  # noqa: F401,F403 (the checks every lab runs)
from labkit.client import session
from labkit.labs import find_lab

lab3 = find_lab(3).load("demo")
ROUTES = {"/": "dynamic", "/api/data": "dynamic", "/about": "dynamic",
          "/static/logo.png": "static", "/static/css/site.css": "static"}


@pytest.mark.parametrize("frontend", ["http_front", "https_front"])
def test_static_paths_go_to_the_static_backend_and_the_rest_to_dynamic(lab, frontend):
    with lab.counting("static_backend") as static, lab.counting("dynamic_backend") as dynamic:
        for path, backend in ROUTES.items():
            assert lab3.who_answers(lab, frontend, path).startswith(backend + " "), path
    assert sum(static["lbtot"].values()) == 2
    assert sum(dynamic["lbtot"].values()) == 3


def test_the_backend_is_told_the_original_scheme_and_client(lab):
    assert lab3.told(lab, "http_front")["X-Forwarded-Proto"] == "http"
    over_https = lab3.told(lab, "https_front")
    assert over_https["X-Forwarded-Proto"] == "https"
    assert over_https["X-Forwarded-For"]


def test_https_verifies_against_the_labs_own_certificate_and_nothing_else(lab):
    url = lab.frontends["https_front"] + "/"
    assert url.startswith("https://127.0.0.1:")
    with lab3.https_session(lab) as http:
        assert http.get(url, timeout=10).status_code == 200
    # A client that trusts only the usual authorities must refuse it: it is self-signed.
    with session() as http, pytest.raises(requests.exceptions.SSLError):
        http.get(url, timeout=10)


def test_status_lists_the_https_frontend_as_https(lab):
    # The ports are the lab's defaults unless a variable moves them.
    http, https = os.environ.get("LAB3_HTTP_PORT", "8300"), os.environ.get("LAB3_HTTPS_PORT", "8343")
    assert lab.frontends == {"http_front": f"http://127.0.0.1:{http}", "https_front": f"https://127.0.0.1:{https}"}
