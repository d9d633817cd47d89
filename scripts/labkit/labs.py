"""Labs are folders: labs/NN-name/ with haproxy.cfg, compose.yaml and lab.toml."""

import dataclasses
import importlib.util
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from . import paths
from .errors import LabkitError


@dataclass(frozen=True)
class Lab:
    number: int
    path: Path
    title: str
    manifest: dict = field(compare=False, repr=False)
    # Another haproxy.cfg to run in the lab's place (a learner's exercise, say).
    config_file: Path | None = field(default=None, compare=False)

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def config(self) -> Path:
        return self.config_file or self.path / "haproxy.cfg"

    def with_config(self, config: Path) -> "Lab":
        return dataclasses.replace(self, config_file=Path(config).resolve())

    @property
    def compose_file(self) -> Path:
        return self.path / "compose.yaml"

    @property
    def project(self) -> str:
        """The Docker Compose project name; its label finds every container and network of the lab."""
        return f"{paths.project_prefix()}{self.number:02d}"

    def load(self, name: str):
        """A Python module of the lab's folder (its demo.py, or exercise/check.py as
        "exercise/check"), loaded by path: lab folders are not packages."""
        module_name = f"lab{self.number:02d}_" + name.replace("/", "_")
        spec = importlib.util.spec_from_file_location(module_name, self.path / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    def __str__(self) -> str:
        return f"lab {self.number} ({self.title})"


def all_labs(labs_dir: Path | None = None) -> list[Lab]:
    labs = []
    for manifest_path in sorted((labs_dir or paths.LABS_DIR).glob("*/lab.toml")):
        folder = manifest_path.parent
        prefix = folder.name.split("-", 1)[0]
        if not prefix.isdigit():
            raise LabkitError(f"{folder}: a lab folder's name starts with its number, like 05-round-robin")
        with manifest_path.open("rb") as f:
            manifest = tomllib.load(f)
        labs.append(Lab(int(prefix), folder, manifest.get("title", folder.name), manifest))
    return sorted(labs, key=lambda lab: lab.number)


def lab_list_text(labs: list[Lab]) -> str:
    return "\n".join(f"  make lab-{lab.number:<3} {lab.title}" for lab in labs)


def find_lab(number: int | str) -> Lab:
    labs = all_labs()
    for lab in labs:
        if str(number).lstrip("0") == str(lab.number):
            return lab
    raise LabkitError(f"There is no lab {number}. The labs are:\n{lab_list_text(labs)}")


def lab_for_path(path: Path) -> Lab:
    """The lab whose folder holds this path (a lab's test file, say)."""
    path = Path(path).resolve()
    for lab in all_labs():
        if path.is_relative_to(lab.path.resolve()):
            return lab
    raise LabkitError(f"{path} is not inside a lab folder")
