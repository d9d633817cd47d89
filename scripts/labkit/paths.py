import os
from contextlib import contextmanager
from pathlib import Path

# The kit is installed in editable mode from scripts/, so the checkout is two folders up.
ROOT = Path(os.environ.get("LABKIT_HOME") or Path(__file__).resolve().parents[2])
LABS_DIR = ROOT / "labs"
BACKEND_APP = ROOT / "backends" / "app.py"


# A worker of the test suite (pytest-xdist's gw0, gw1, ...) runs labs beside the others:
# what it starts is its own, in a folder and under Compose project names of its own, so
# that its `make down` and its leftover checks see only its share. A suite that a test of
# the suite runs (make soak, say) has workers inside that worker's share: "gw0/gw1".
WORKER = "LABKIT_WORKER"


def worker() -> str:
    return os.environ.get(WORKER, "")


def checkout_state_dir() -> Path:
    """Where the kit remembers what it started (and keeps the logs): .labkit/ in the checkout."""
    return Path(os.environ.get("LABKIT_STATE_DIR") or ROOT / ".labkit")


def share_dir(name: str) -> Path:
    folder = checkout_state_dir()
    for part in filter(None, name.split("/")):
        folder = folder / "workers" / part
    return folder


def state_dir() -> Path:
    """The checkout's state folder, or in a test worker its share of it."""
    return share_dir(worker())


def shares() -> list[str]:
    """The shares in view: this one (the checkout's is "") and those of the workers inside it."""
    found = [worker()]
    for folder in sorted(state_dir().glob("**/workers/*")):
        if folder.is_dir():
            found.append(str(folder.relative_to(checkout_state_dir())).replace("workers/", ""))
    return found


@contextmanager
def as_worker(name: str):
    """The kit as test worker `name` sees it ("": the checkout itself), for a while."""
    saved = os.environ.get(WORKER)
    os.environ[WORKER] = name
    try:
        yield
    finally:
        if saved is None:
            del os.environ[WORKER]
        else:
            os.environ[WORKER] = saved


def project_prefix() -> str:
    """What the Compose project of every lab this checkout (or test worker) starts begins with."""
    return f"labkit-lab-{worker().replace('/', '-')}-" if worker() else "labkit-lab"


def as_the_checkout_shows(text: str) -> str:
    """A text with this worker's state folder written as the checkout's: what a learner,
    who runs no workers, sees."""
    return text.replace(shown(state_dir()) + "/", shown(checkout_state_dir()) + "/") if worker() else text


def run_dir(number: int) -> Path:
    """A running lab's logs and, for the local runtime, the config it runs."""
    return state_dir() / "run" / f"lab-{number:02d}"


def tls_dir(number: int) -> Path:
    """Where a lab's throwaway TLS certificate lives while it runs."""
    return run_dir(number) / "tls"


def shown(path) -> str:
    """A path as a learner would type it: relative to the checkout when inside it."""
    path = Path(path)
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)
