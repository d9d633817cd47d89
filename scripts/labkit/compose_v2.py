"""Docker Compose v2 where Docker has only v1 (Debian 12, Ubuntu 22.04 ship docker-compose 1.29).

Docker Desktop and docker-ce install v2, so that is what most learners run. Debian 13's
docker-compose package is v2, one static binary: apt downloads it here with a sources list
of its own, and the binary goes into the checkout's .labkit/tools. Nothing of the system
changes, and no root is needed.
"""

import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

from . import images, paths
from .errors import LabkitError

SUITE = images.DEBIAN_SUITE  # Debian 13
PACKAGE = "docker-compose"
VERSION = "2.26.1"  # Debian 13's; a newer upload of the same line is refused until pinned here
KEYRING = Path("/usr/share/keyrings/debian-archive-keyring.gpg")


def binary() -> Path:
    return paths.checkout_state_dir() / "tools" / "docker-compose"


def fetch(say=print) -> Path:
    """The kit's own Compose v2, downloaded from Debian 13 the first time."""
    target = binary()
    if target.exists():
        return target
    if not shutil.which("apt-get") or not KEYRING.exists():
        raise LabkitError("Compose v2 is asked for (LABKIT_COMPOSE=v2) and this machine has neither it nor\n"
                          "Debian's apt to fetch it: https://docs.docker.com/compose/install/")
    mirror = images.debian_mirror()
    say(f"labkit: Docker here has only Compose v1; fetching Compose v2 from Debian {SUITE}'s {PACKAGE} package "
        f"into {paths.shown(target.parent)} (once, about 13 MB; the system is not changed).")
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as folder:
        work = Path(folder)
        (work / "sources.list").write_text(f"deb [signed-by={KEYRING}] {mirror} {SUITE} main\n")
        for part in ("lists/partial", "cache/archives/partial"):
            (work / part).mkdir(parents=True)
        options = [f"-oDir::Etc::SourceList={work / 'sources.list'}", "-oDir::Etc::SourceParts=/dev/null",
                   f"-oDir::State::Lists={work / 'lists'}", f"-oDir::Cache={work / 'cache'}",
                   f"-oAPT::Sandbox::User={pwd.getpwuid(os.geteuid()).pw_name}", "-qq"]

        def apt(*arguments):
            result = subprocess.run(["apt-get", *options, *arguments], cwd=work, capture_output=True, text=True)
            if result.returncode != 0:
                raise LabkitError(f"apt-get {arguments[0]} for Compose v2 failed:\n{result.stderr.strip()[-1500:]}")

        apt("update")
        apt("download", f"{PACKAGE}/{SUITE}")
        debs = list(work.glob(f"{PACKAGE}_*.deb"))
        if len(debs) != 1 or not debs[0].name.startswith(f"{PACKAGE}_{VERSION}-"):
            raise LabkitError(f"Debian {SUITE} offers {[d.name for d in debs]}, not {PACKAGE} {VERSION}")
        unpacked = subprocess.run(["dpkg-deb", "-x", str(debs[0]), str(work / "root")], capture_output=True, text=True)
        plugin = work / "root/usr/libexec/docker/cli-plugins/docker-compose"
        if unpacked.returncode != 0 or not plugin.exists():
            raise LabkitError(f"{debs[0].name} did not unpack to {plugin.relative_to(work / 'root')}: {unpacked.stderr.strip()}")
        os.replace(plugin, target)
    return target
