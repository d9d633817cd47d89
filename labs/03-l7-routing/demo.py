"""Lab 3's demonstration: routing by path over HTTP and HTTPS, and what the backend is told."""

from labkit import paths, tls
from labkit.client import ask, session
from labkit.demo import table

PATHS = ["/", "/api/data", "/static/logo.png", "/static/css/site.css"]


def certificate(lab) -> str:
    """The lab's throwaway certificate, which clients trust to verify its HTTPS frontend."""
    return str(paths.tls_dir(lab.lab.number) / tls.CERTIFICATE)


def https_session(lab):
    http = session()
    http.verify = certificate(lab)
    return http


def who_answers(lab, frontend: str, path: str) -> str:
    with (https_session(lab) if frontend == "https_front" else session()) as http:
        answer = ask(http, lab.frontends[frontend] + path)
    return f"{answer.backend} ({answer.status})"


def told(lab, frontend: str) -> dict:
    """The headers the dynamic backend received, as its /whoami reports them."""
    with (https_session(lab) if frontend == "https_front" else session()) as http:
        return http.get(lab.frontends[frontend] + "/whoami", timeout=10).json()["headers"]


def demo(lab, say=print):
    http, https = lab.frontends["http_front"], lab.frontends["https_front"]
    say(f"\nThe same paths over HTTP ({http}) and HTTPS ({https}):")
    say(table(["path", "over HTTP", "over HTTPS"],
              [[p, who_answers(lab, "http_front", p), who_answers(lab, "https_front", p)] for p in PATHS]))
    say("\nWhat the dynamic backend is told about each request (its /whoami):")
    rows = [[name, told(lab, front).get("X-Forwarded-Proto"), told(lab, front).get("X-Forwarded-For")]
            for name, front in (("over HTTP", "http_front"), ("over HTTPS", "https_front"))]
    say(table(["request", "X-Forwarded-Proto", "X-Forwarded-For"], rows))
    say(f"\nHTTPS was verified against the lab's own certificate: {paths.shown(certificate(lab))}\n"
        f"  curl --cacert {paths.shown(certificate(lab))} {https}/api/data\n"
        "(it is made when the lab starts and deleted when it stops)")
