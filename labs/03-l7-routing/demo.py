"""Lab 3's demonstration: routing by path over HTTP and HTTPS, and what the backend is told."""

from labkit import paths, tls
from labkit.client import ask, session
from labkit.demo import table

PATHS = ["/", "/api/data", "/static/logo.png", "/static/css/site.css"]


def certificate(record) -> str:
    """The lab's throwaway certificate, which clients trust to verify its HTTPS frontend."""
    return str(paths.tls_dir(record["lab"]) / tls.CERTIFICATE)


def https_session(record):
    http = session()
    http.verify = certificate(record)
    return http


def who_answers(record, frontend: str, path: str) -> str:
    with (https_session(record) if frontend == "https_front" else session()) as http:
        answer = ask(http, record["frontends"][frontend] + path)
    return f"{answer.backend} ({answer.status})"


def told(record, frontend: str) -> dict:
    """The headers the dynamic backend received, as its /whoami reports them."""
    with (https_session(record) if frontend == "https_front" else session()) as http:
        return http.get(record["frontends"][frontend] + "/whoami", timeout=10).json()["headers"]


def demo(lab, record, say=print):
    http, https = record["frontends"]["http_front"], record["frontends"]["https_front"]
    say(f"\nThe same paths over HTTP ({http}) and HTTPS ({https}):")
    say(table(["path", "over HTTP", "over HTTPS"],
              [[p, who_answers(record, "http_front", p), who_answers(record, "https_front", p)] for p in PATHS]))
    say("\nWhat the dynamic backend is told about each request (its /whoami):")
    rows = [[name, told(record, front).get("X-Forwarded-Proto"), told(record, front).get("X-Forwarded-For")]
            for name, front in (("over HTTP", "http_front"), ("over HTTPS", "https_front"))]
    say(table(["request", "X-Forwarded-Proto", "X-Forwarded-For"], rows))
    say(f"\nHTTPS was verified against the lab's own certificate: {paths.shown(certificate(record))}\n"
        f"  curl --cacert {paths.shown(certificate(record))} {https}/api/data\n"
        "(it is made when the lab starts and deleted when it stops)")
