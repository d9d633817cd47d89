"""Mermaid for the course site, served by the site itself.

Material for MkDocs draws the labs' diagrams with mermaid, which it loads from a CDN when
the page does not already have it; in a workshop room without internet the diagrams
would stay text. The kit takes mermaid's own ES-module build (mermaid 11.12.2, MIT
licence) from a pinned wheel on PyPI that ships it, checks the wheel's hash, and puts the
files under docs/assets/mermaid/ (not committed). docs/assets/mermaid-local.mjs hands it
to Material.
"""

import hashlib
import shutil
import subprocess
import sys
import zipfile

from . import paths
from .errors import LabkitError

WHEEL = "instaui_mermaid-0.2.0-py3-none-any.whl"
REQUIREMENT = "instaui-mermaid==0.2.0"
SHA256 = "5bb411316d4d767db5a2fd064d859958f51d5a5501a6142410076a6f84ffec13"
INSIDE = "instaui_mermaid/static/"  # mermaid.esm.min.mjs and chunks/ below it
TARGET = paths.ROOT / "docs" / "assets" / "mermaid"


def ensure_mermaid(say=print) -> None:
    if (TARGET / "mermaid.esm.min.mjs").exists():
        return
    cache = paths.state_dir() / "cache"
    wheel = cache / WHEEL
    if not wheel.exists():
        say(f"Fetching mermaid for the docs site ({REQUIREMENT}, once) ...")
        result = subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                                 "--only-binary=:all:", "--dest", str(cache), REQUIREMENT],
                                capture_output=True, text=True)
        if result.returncode != 0:
            raise LabkitError(f"could not download {REQUIREMENT} from PyPI:\n{result.stderr.strip()}")
    if hashlib.sha256(wheel.read_bytes()).hexdigest() != SHA256:
        wheel.unlink()
        raise LabkitError(f"{WHEEL} does not have the expected SHA-256; deleted it, try again")
    partial = TARGET.with_name("mermaid.partial")
    shutil.rmtree(partial, ignore_errors=True)
    with zipfile.ZipFile(wheel) as archive:
        for member in archive.namelist():
            name = member.removeprefix(INSIDE)
            if member.startswith(INSIDE) and (name == "mermaid.esm.min.mjs" or name.startswith("chunks/mermaid.esm.min/")):
                (partial / name).parent.mkdir(parents=True, exist_ok=True)
                (partial / name).write_bytes(archive.read(member))
    shutil.rmtree(TARGET, ignore_errors=True)
    partial.rename(TARGET)
