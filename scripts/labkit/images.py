"""Which base images the kit's two Dockerfiles build on.

By default they build on the pinned official images (python, haproxy), which a learner
pulls from Docker Hub. Where no registry answers (an offline workshop room, a locked-down
network) the kit makes its own base from Debian's packages with debootstrap and
`docker import`, and passes it in as a build argument. LABKIT_BASE=official|debian
forces one; LABKIT_PYTHON_IMAGE / LABKIT_HAPROXY_IMAGE name any other image.
"""

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import docker

from . import paths, system
from .errors import LabkitError

# The images backends/compose.service.yaml and haproxy/compose.service.yaml build.
BACKEND_IMAGE = "labkit/backend:1"
HAPROXY_IMAGE = "labkit/haproxy:1"
KIT_IMAGES = [BACKEND_IMAGE, HAPROXY_IMAGE]

# Debian 13, the release the pinned official images are made from: Python 3.13 and
# HAProxy 3.0 from its own packages, with Flask and waitress for the backend app.
DEBIAN_SUITE = "trixie"
DEBIAN_BASE = f"labkit/debian-base:{DEBIAN_SUITE}"
DEBIAN_PACKAGES = ["python3", "python3-flask", "python3-waitress", "haproxy"]

# HAProxy's 3.2 line, the pinned official image's, from Debian testing (forky). It runs no
# lab: the tests ask it, with `haproxy -c`, whether it accepts every config (test_configs).
CHECK_SUITE = "forky"
CHECK_IMAGE = f"labkit/haproxy-check:{CHECK_SUITE}"

# Each kit image: its build context, the ARG naming its base, and the variable that overrides it.
KIT_BUILDS = {
    BACKEND_IMAGE: (paths.ROOT / "backends", "PYTHON_IMAGE", "LABKIT_PYTHON_IMAGE"),
    HAPROXY_IMAGE: (paths.ROOT / "haproxy", "HAPROXY_IMAGE", "LABKIT_HAPROXY_IMAGE"),
}
BASE_VARIABLES = [variable for _, _, variable in KIT_BUILDS.values()]


def dockerfile_default(dockerfile: Path, arg: str) -> str:
    match = re.search(rf"^ARG {arg}=(\S+)", dockerfile.read_text(), re.MULTILINE)
    if not match:
        raise LabkitError(f"{dockerfile} has no `ARG {arg}=<default image>` line")
    return match[1]


def official_images() -> list[str]:
    return [dockerfile_default(folder / "Dockerfile", arg) for folder, arg, _ in KIT_BUILDS.values()]


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
    if any(os.environ.get(var) for var in BASE_VARIABLES):
        return {}
    choice = os.environ.get("LABKIT_BASE", "auto")
    debian = dict.fromkeys(BASE_VARIABLES, DEBIAN_BASE)
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


def why_none_can_be_had(client) -> str | None:
    """None where the labs' images can be had here: built already, or buildable on a base
    that is here, can be pulled, or can be made offline (root, and debootstrap or apt-get to
    get it). Otherwise the reason, for `RUNTIME=auto` to say why it runs the labs locally."""
    if os.environ.get("LABKIT_BASE") == "official" or any(os.environ.get(v) for v in BASE_VARIABLES):
        return None  # the learner chose; a failure then is theirs to see
    # A kit image is checked against its base before a lab runs it, so the base must be here.
    if present(client, DEBIAN_BASE) or all(present(client, image) for image in official_images()):
        return None
    if os.geteuid() == 0 and (shutil.which("debootstrap") or system.apt_prefix() is not None):
        return None
    if all(pulled(client, image, lambda message: None) for image in official_images()):
        return None
    return ("Docker answers, but it has no base image for the labs, no registry answers, and the "
            "offline base cannot be built here (that needs root and debootstrap)")


def build_debian_base(say=print) -> None:
    if os.geteuid() != 0:
        raise LabkitError(
            "No registry answers and the kit's offline base image is not here.\n"
            "Building it needs root (debootstrap): run `sudo make images`, or load a workshop\n"
            "archive with `make images-load FILE=...`, or connect to the internet once."
        )
    build_debian_image(DEBIAN_BASE, DEBIAN_SUITE, DEBIAN_PACKAGES,
                       "No registry answers, and the kit builds its offline base image with debootstrap", say)


def build_check_image(client, say=print) -> None:
    build_debian_image(CHECK_IMAGE, CHECK_SUITE, ["haproxy"],
                       "The tests check every config on HAProxy 3.2 too, in an image made with debootstrap", say)
    # Debian testing moves on; a newer HAProxy there is not the pinned image's line.
    said = client.containers.run(CHECK_IMAGE, ["haproxy", "-v"], remove=True, network_mode="none").decode()
    if not said.startswith("HAProxy version 3.2."):
        client.images.remove(CHECK_IMAGE)
        raise LabkitError(f"Debian {CHECK_SUITE}'s haproxy is no longer 3.2: {said.splitlines()[0]}")


def check_images(client) -> dict[str, str]:
    """The HAProxy lines every config must pass `haproxy -c` on besides the local one
    (Debian 12's 2.6 here), and the image that has each: 3.0 in the offline base, and 3.2
    in the pinned official image where it is here, else in the one made from forky."""
    official = dockerfile_default(KIT_BUILDS[HAPROXY_IMAGE][0] / "Dockerfile", "HAPROXY_IMAGE")
    return {"3.0": DEBIAN_BASE, "3.2": official if present(client, official) else CHECK_IMAGE}


def ensure_check_images(client, say=print) -> None:
    """Make the images of check_images that are missing, where that can be done (root, and
    Debian's archive answers); where not, the tests that need them say so and skip."""
    if os.geteuid() != 0:
        return
    for line, image in check_images(client).items():
        if present(client, image):
            continue
        try:
            build_debian_base(say) if image == DEBIAN_BASE else build_check_image(client, say)
        except LabkitError as error:
            say(f"labkit: {image} cannot be made here, so the configs will not be checked on HAProxy {line}:\n  {error}")


def debian_mirror() -> str:
    return os.environ.get("LABKIT_DEBIAN_MIRROR", "http://deb.debian.org/debian")


def debootstrap_script(suite: str) -> list[str]:
    """Debian 12's debootstrap knows no `forky`; testing bootstraps as sid does."""
    scripts = Path("/usr/share/debootstrap/scripts")
    if (scripts / suite).exists() or not (scripts / "sid").exists():
        return []
    return [str(scripts / "sid")]


def build_debian_image(tag: str, suite: str, packages: list[str], why: str, say=print) -> None:
    """A minimal Debian `suite` with `packages`, made by debootstrap and `docker import`ed as `tag`."""
    system.ensure("debootstrap", why, lambda: shutil.which("debootstrap"), say)
    debootstrap = shutil.which("debootstrap")
    mirror = debian_mirror()
    paths.state_dir().mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="debian-image-", dir=paths.state_dir()))
    rootfs = workdir / "rootfs"
    log = workdir.parent / f"debian-{suite}.log"
    try:
        say(f"  debootstrap {suite} with {', '.join(packages)} (log: {paths.shown(log)})")
        with open(log, "w") as out:
            result = subprocess.run(
                [debootstrap, "--variant=minbase", f"--include={','.join(packages)}",
                 suite, str(rootfs), mirror, *debootstrap_script(suite)],
                stdout=out, stderr=subprocess.STDOUT,
            )
        if result.returncode != 0:
            raise LabkitError(f"debootstrap failed; the end of {log}:\n" + "\n".join(log.read_text().splitlines()[-15:]))
        # What an image does not need: package caches, documentation.
        for junk in ("var/cache/apt/archives", "var/lib/apt/lists", "usr/share/doc", "usr/share/man", "usr/share/locale"):
            shutil.rmtree(rootfs / junk, ignore_errors=True)
        say(f"  docker import -> {tag}")
        tar = subprocess.Popen(["tar", "--numeric-owner", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE)
        imported = subprocess.run(
            ["docker", "import", "--change", "ENV LANG=C.UTF-8",
             "--change", "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
             "--message", f"labkit: Debian {suite} minbase + {' '.join(packages)}",
             "-", tag],
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


# The image label that says what an image was built from (see context_digest).
CONTEXT_LABEL = "labkit.context"


def context_digest(folder: Path, base_id: str) -> str:
    """A digest of every file of a build context and of the base image's id: an image
    whose label carries it needs no build."""
    digest = hashlib.sha256(base_id.encode() + b"\0")
    for file in sorted(f for f in folder.rglob("*") if f.is_file() and "__pycache__" not in f.parts):
        digest.update(file.relative_to(folder).as_posix().encode() + b"\0" + file.read_bytes() + b"\0")
    return digest.hexdigest()


def label_of(client, image: str) -> str | None:
    try:
        return (client.images.get(image).labels or {}).get(CONTEXT_LABEL)
    except docker.errors.ImageNotFound:
        return None


def ensure_built(client, log: Path, say=print) -> list[str]:
    """Build each kit image whose build context or base has changed since it was built,
    and nothing else; return every image the labs need, bases included. A lab's start then
    runs what is there: Docker Compose v1 rebuilt every service's image at each start."""
    base_env = base_image_environment(client, say)
    bases = []
    for image, (folder, arg, variable) in KIT_BUILDS.items():
        base = os.environ.get(variable) or base_env.get(variable) or dockerfile_default(folder / "Dockerfile", arg)
        bases.append(base)
        if not present(client, base) and not pulled(client, base, say):
            raise LabkitError(f"{image} builds on {base}, which is neither here nor to be pulled")
        digest = context_digest(folder, client.images.get(base).id)
        if label_of(client, image) == digest:
            continue
        say(f"  docker build {paths.shown(folder)} -> {image} on {base} (log: {paths.shown(log)})")
        command = ["docker", "build", "--tag", image, "--label", f"{CONTEXT_LABEL}={digest}",
                   "--build-arg", f"{arg}={base}", "--cache-from", image, str(folder)]
        log.parent.mkdir(parents=True, exist_ok=True)
        with open(log, "a") as out:
            out.write(f"$ {' '.join(command)}\n")
            out.flush()
            built = subprocess.run(command, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
        if built.returncode != 0:
            tail = "\n".join(log.read_text(errors="replace").splitlines()[-25:])
            raise LabkitError(f"building {image} failed; the end of {paths.shown(log)}:\n{tail}")
    return KIT_IMAGES + sorted(set(bases))


def build_all(client, say=print) -> list[str]:
    """Build the kit's images (and their base) as the labs do; return every image the labs
    need, bases included."""
    return ensure_built(client, paths.state_dir() / "images.log", say)


def save(client, archive: Path, say=print) -> None:
    """Every image the labs need, in one gzip'd archive that `docker load` reads."""
    import gzip

    names = build_all(client, say)
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
