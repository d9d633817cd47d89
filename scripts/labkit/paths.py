import os
from pathlib import Path

# The kit is installed in editable mode from scripts/, so the checkout is two folders up.
ROOT = Path(os.environ.get("LABKIT_HOME") or Path(__file__).resolve().parents[2])
LABS_DIR = ROOT / "labs"
BACKEND_APP = ROOT / "backends" / "app.py"


def state_dir() -> Path:
    """Where the kit remembers what it started (and keeps the logs): .labkit/ in the checkout."""
    return Path(os.environ.get("LABKIT_STATE_DIR") or ROOT / ".labkit")


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
