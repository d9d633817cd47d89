"""The Debian packages the kit needs from the system, installed when they are missing.

Where the user is root or has passwordless sudo and apt-get is there, a missing package is
installed after one line that says what and why; a person at a terminal is asked first,
and a run with no terminal (CI) goes ahead. Anywhere else the kit stops with the command
to run. Only the standard library here: the Makefile runs this file with the system's
Python before .venv exists (python3-venv is one of the packages).

    python3 scripts/labkit/system.py PACKAGE "WHY"
"""

import os
import shutil
import subprocess
import sys

try:
    from .errors import LabkitError
except ImportError:  # run as a script by the Makefile, before .venv exists
    LabkitError = RuntimeError

# What Homebrew calls the same thing, for the message on a Mac.
BREW = {"haproxy": "haproxy", "chromium": "--cask chromium", "debootstrap": None, "python3-venv": None}


def how_to_install(package: str) -> str:
    if sys.platform == "darwin":
        brew = BREW.get(package, package)
        return f"brew install {brew}" if brew else f"{package} is for Debian and Ubuntu; run the labs with Docker Desktop"
    return f"sudo apt-get install {package}"


def apt_prefix() -> list[str] | None:
    """How to run apt-get as root here: [] as root, sudo -n with passwordless sudo, else None."""
    if not shutil.which("apt-get"):
        return None
    if os.geteuid() == 0:
        return []
    if shutil.which("sudo") and subprocess.run(["sudo", "-n", "true"], capture_output=True).returncode == 0:
        return ["sudo", "-n"]
    return None


def install(package: str, why: str, say=print) -> bool:
    """Install one Debian package with apt-get, saying what and why first; False where it
    cannot be done here or the person at the terminal says no."""
    prefix = apt_prefix()
    if prefix is None:
        return False
    say(f"labkit: {why}: installing the Debian package {package} with apt-get.")
    if sys.stdin.isatty():
        try:
            answer = input("Go ahead? [Y/n] ").strip().lower()
        except EOFError:
            answer = "n"
        if answer not in ("", "y", "yes"):
            return False
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    command = [*prefix, "apt-get", "install", "-y", "--no-install-recommends", package]
    output = {"stdout": subprocess.DEVNULL} if not sys.stdout.isatty() else {}
    if subprocess.run(command, env=env, stdin=subprocess.DEVNULL, **output).returncode == 0:
        return True
    # A new machine has no package lists yet, and old ones name files the archive has dropped.
    subprocess.run([*prefix, "apt-get", "update"], env=env, stdin=subprocess.DEVNULL, **output)
    return subprocess.run(command, env=env, stdin=subprocess.DEVNULL, **output).returncode == 0


def ensure(package: str, why: str, present, say=print) -> None:
    """Make `present()` true by installing `package` if need be; otherwise raise a
    LabkitError saying how to get it."""
    if present():
        return
    if install(package, why, say) and present():
        return
    raise LabkitError(f"{why}, and {package} is missing: {how_to_install(package)}")


if __name__ == "__main__":
    package, why = sys.argv[1], sys.argv[2]
    checks = {"python3-venv": lambda: subprocess.run([sys.executable, "-c", "import ensurepip, venv"],
                                                     capture_output=True).returncode == 0}
    try:
        ensure(package, why, checks.get(package, lambda: bool(shutil.which(package))))
    except LabkitError as error:
        sys.exit(f"labkit: {error}")
