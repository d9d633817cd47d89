"""Which base images the kit's two Dockerfiles build on.

By default they build on the pinned official images (python, haproxy), which a learner
pulls from Docker Hub. Where no registry answers (an offline workshop room, a locked-down
network) the kit makes its own base from Debian's packages with debootstrap and
`docker import`, and passes it in as a build argument. LABKIT_BASE=official|debian
forces one; LABKIT_PYTHON_IMAGE / LABKIT_HAPROXY_IMAGE name any other image.
"""

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import docker

from . import paths
from .errors import LabkitError

# The images backends/compose.service.yaml and haproxy/compose.service.yaml build.
BACKEND_IMAGE = "labkit/backend:1"
HAPROXY_IMAGE = "labkit/haproxy:1"
KIT_IMAGES = [BACKEND_IMAGE, HAPROXY_IMAGE]

DEBIAN_BASE = "labkit/debian-base:bookworm"
DEBIAN_SUITE = "bookworm"
# Debian's own packages give the backend app (python3, Flask, waitress) and HAProxy 2.6.
DEBIAN_PACKAGES = ["python3", "python3-flask", "python3-waitress", "haproxy"]

# Build argument each Dockerfile takes, and the compose variable that sets it.
BASE_ARGS = {
    "LABKIT_PYTHON_IMAGE": (paths.ROOT / "backends" / "Dockerfile", "PYTHON_IMAGE"),
    "LABKIT_HAPROXY_IMAGE": (paths.ROOT / "haproxy" / "Dockerfile", "HAPROXY_IMAGE"),
}


def dockerfile_default(dockerfile: Path, arg: str) -> str:
    match = re.search(rf"^ARG {arg}=(\S+)", dockerfile.read_text(), re.MULTILINE)
    if not match:
        raise LabkitError(f"{dockerfile} has no `ARG {arg}=<default image>` line")
    return match[1]


def official_images() -> list[str]:
    return [dockerfile_default(*where) for where in BASE_ARGS.values()]


def present(client, image: str) -> bool:
    try:
        client.images.get(image)
        return True
    except docker.errors.ImageNotFound:
        return False


def pulled(client, image: str, say) -> bool:
    say(f"  pulling {image} ...")
    try:
        client.images.pull(image)
        return True
    except docker.errors.DockerException as error:
        reason = getattr(error, "explanation", None) or str(error)
        say(f"  cannot pull {image}: {reason.splitlines()[0][:200]}")
        return False


def base_image_environment(client, say=print) -> dict[str, str]:
    """The LABKIT_*_IMAGE variables for Docker Compose ({} means: the official images)."""
    if any(os.environ.get(var) for var in BASE_ARGS):
        return {}
    choice = os.environ.get("LABKIT_BASE", "auto")
    debian = {var: DEBIAN_BASE for var in BASE_ARGS}
    if choice not in ("auto", "official", "debian"):
        raise LabkitError(f"LABKIT_BASE must be auto, official or debian, not {choice!r}")
    if choice == "official":
        return {}
    if choice == "auto":
        official = official_images()
        if all(present(client, image) for image in official):
            return {}
        if present(client, DEBIAN_BASE):
            return debian
        if all(present(client, image) or pulled(client, image, say) for image in official):
            return {}
        say("No registry answers, so the kit builds its own base image from Debian's packages (once, about a minute).")
    if not present(client, DEBIAN_BASE):
        build_debian_base(say)
    return debian


def build_debian_base(say=print) -> None:
    if os.geteuid() != 0:
        raise LabkitError(
            "No registry answers and the kit's offline base image is not here.\n"
            "Building it needs root (debootstrap): run `sudo make images`, or load a workshop\n"
            "archive with `make images-load FILE=...`, or connect to the internet once."
        )
    debootstrap = shutil.which("debootstrap")
    if not debootstrap:
        raise LabkitError("Building the offline base image needs debootstrap: sudo apt-get install debootstrap")
    mirror = os.environ.get("LABKIT_DEBIAN_MIRROR", "http://deb.debian.org/debian")
    paths.state_dir().mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="debian-base-", dir=paths.state_dir()))
    rootfs = workdir / "rootfs"
    log = workdir.parent / "debian-base.log"
    try:
        say(f"  debootstrap {DEBIAN_SUITE} with {', '.join(DEBIAN_PACKAGES)} (log: {paths.shown(log)})")
        with open(log, "w") as out:
            result = subprocess.run(
                [debootstrap, "--variant=minbase", f"--include={','.join(DEBIAN_PACKAGES)}",
                 DEBIAN_SUITE, str(rootfs), mirror],
                stdout=out, stderr=subprocess.STDOUT,
            )
        if result.returncode != 0:
            raise LabkitError(f"debootstrap failed; the end of {log}:\n" + "\n".join(log.read_text().splitlines()[-15:]))
        # What an image does not need: package caches, documentation.
        for junk in ("var/cache/apt/archives", "var/lib/apt/lists", "usr/share/doc", "usr/share/man", "usr/share/locale"):
            shutil.rmtree(rootfs / junk, ignore_errors=True)
        say(f"  docker import -> {DEBIAN_BASE}")
        tar = subprocess.Popen(["tar", "--numeric-owner", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE)
        imported = subprocess.run(
            ["docker", "import", "--change", "ENV LANG=C.UTF-8",
             "--change", "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
             "--message", f"labkit offline base: Debian {DEBIAN_SUITE} minbase + {' '.join(DEBIAN_PACKAGES)}",
             "-", DEBIAN_BASE],
            stdin=tar.stdout, capture_output=True, text=True,
        )
        tar.stdout.close()
        tar.wait()
        if imported.returncode != 0 or tar.returncode != 0:
            raise LabkitError(f"docker import failed: {imported.stderr.strip()}")
    finally:
        remove_rootfs(workdir)


def remove_rootfs(workdir: Path) -> None:
    """Remove a debootstrap folder, first unmounting what an interrupted debootstrap left
    mounted inside it (deleting through a mounted /proc or /sys is never wanted)."""
    prefix = str(workdir.resolve()) + "/"
    with open("/proc/self/mounts") as mounts:
        inside = [line.split()[1] for line in mounts if line.split()[1].startswith(prefix)]
    for mount_point in sorted(inside, key=len, reverse=True):
        subprocess.run(["umount", "-l", mount_point], check=False)
    shutil.rmtree(workdir, ignore_errors=True)


def build_all(say=print) -> list[str]:
    """Build the kit's images (and their base) with Docker Compose, as the labs do; return
    every image the labs need, bases included."""
    from . import runner
    from .labs import all_labs
    from .runtimes import docker as docker_runtime

    engine = docker_runtime.client()
    base_env = base_image_environment(engine, say)
    # Every lab's compose file builds the same two images; the first lab's will do.
    lab = all_labs()[0]
    record = {"compose": docker_runtime.compose_command(), "project": lab.project, "compose_file": str(lab.compose_file),
              "compose_env": runner.plan(lab, docker_runtime.DockerRuntime()).kit_env}
    paths.state_dir().mkdir(parents=True, exist_ok=True)
    log = paths.state_dir() / "images.log"
    say(f"  docker compose build (log: {paths.shown(log)})")
    if docker_runtime.run_compose(record, ["build"], log, base_env).returncode != 0:
        raise LabkitError(f"building the images failed; the end of {paths.shown(log)}:\n{docker_runtime.log_tail(log)}")
    bases = sorted(set(base_env.values())) or official_images()
    return KIT_IMAGES + bases


def save(archive: Path, say=print) -> None:
    """Every image the labs need, in one gzip'd archive that `docker load` reads."""
    import gzip

    names = build_all(say)
    say(f"  docker save {' '.join(names)} | gzip > {archive}")
    partial = archive.with_name(archive.name + ".partial")
    process = subprocess.Popen(["docker", "save", *names], stdout=subprocess.PIPE)
    try:
        with gzip.open(partial, "wb", compresslevel=6) as out:
            shutil.copyfileobj(process.stdout, out, 1 << 20)
        if process.wait() != 0:
            raise LabkitError("docker save failed")
        os.replace(partial, archive)  # never a half-written archive under the real name
    finally:
        if process.poll() is None:
            process.kill()
        partial.unlink(missing_ok=True)


def load(archive: Path, say=print) -> None:
    if not archive.exists():
        raise LabkitError(f"{archive} does not exist")
    say(f"  docker load -i {archive}")
    result = subprocess.run(["docker", "load", "-i", str(archive)], capture_output=True, text=True)
    if result.returncode != 0:
        raise LabkitError(f"docker load failed: {result.stderr.strip()}")
    say("\n".join(f"  {line}" for line in result.stdout.strip().splitlines()))
