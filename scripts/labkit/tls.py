"""A throwaway certificate for labs that terminate TLS: made when the lab starts, removed
when it stops, never committed. openssl does the work; it is on every Linux and macOS."""

import shutil
import subprocess
from pathlib import Path

from .errors import LabkitError

CERTIFICATE = "haproxy.crt"  # what a client trusts to verify the lab's HTTPS frontend
BUNDLE = "haproxy.pem"       # certificate and key together, as HAProxy's `crt` wants them


def make_certificate(folder: Path) -> Path:
    """Write a self-signed certificate for localhost and 127.0.0.1, valid a week."""
    openssl = shutil.which("openssl")
    if not openssl:
        raise LabkitError("This lab makes a TLS certificate with openssl, which is not installed here.\n"
                          "  Debian/Ubuntu: sudo apt-get install openssl")
    folder.mkdir(parents=True, exist_ok=True)
    key = folder / "haproxy.key"
    result = subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "7",
         "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
         "-keyout", str(key), "-out", str(folder / CERTIFICATE)],
        capture_output=True, text=True,
    )
    if result.returncode != 0:
        raise LabkitError(f"openssl could not make the lab's certificate:\n{result.stderr.strip()}")
    (folder / BUNDLE).write_text((folder / CERTIFICATE).read_text() + key.read_text())
    key.unlink()
    # HAProxy runs as its own user inside its container and must read the bundle. The key
    # is a throwaway for this one run of the lab on 127.0.0.1, deleted when it stops.
    (folder / BUNDLE).chmod(0o644)
    return folder
