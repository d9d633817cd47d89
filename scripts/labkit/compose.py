"""Reading a lab's compose.yaml without Docker.

The compose file is the one description of a lab's services. Docker Compose runs it;
the local runtime reads it here to learn which backends to start with which
environment, and which ports HAProxy binds. Only what the kit's compose files use is
understood: `extends` (file + service), `environment`, `labels`, and `${VAR}`,
`${VAR:-default}`, `${VAR-default}` and `$$` interpolation.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

from .errors import LabkitError

VARIABLE = re.compile(
    r"\$(?:(?P<escaped>\$)"
    r"|\{(?P<braced>[A-Za-z_]\w*)(?:(?P<op>:?-)(?P<default>[^}]*))?\}"
    r"|(?P<named>[A-Za-z_]\w*))"
)


def interpolate(text: str, env: Mapping[str, str]) -> str:
    def substitute(match):
        if match["escaped"]:
            return "$"
        name = match["braced"] or match["named"]
        value = env.get(name)
        if match["op"] == ":-" and not value:
            return match["default"]
        if match["op"] == "-" and value is None:
            return match["default"]
        return value or ""

    return VARIABLE.sub(substitute, text)


@dataclass(frozen=True)
class Setting:
    """One `KEY: value` of a service's environment, before and after interpolation."""

    key: str
    raw: str
    value: str

    @property
    def variable(self) -> str | None:
        """The host variable that sets it, e.g. LAB5_HTTP_PORT in ${LAB5_HTTP_PORT:-8500}."""
        match = VARIABLE.fullmatch(self.raw)
        return match and (match["braced"] or match["named"])


@dataclass(frozen=True)
class Service:
    name: str
    role: str | None
    settings: dict[str, Setting]

    @property
    def environment(self) -> dict[str, str]:
        return {key: s.value for key, s in self.settings.items()}

    @property
    def ports(self) -> list[Setting]:
        """The ports this service's program binds: by the kit's convention, the *_PORT settings."""
        return [s for key, s in self.settings.items() if key.endswith("_PORT")]


def _as_dict(value) -> dict:
    if value is None:
        return {}
    if isinstance(value, list):  # the `- KEY=value` form
        return dict(item.split("=", 1) if "=" in item else (item, "") for item in value)
    return dict(value)


def _resolve(spec: dict, folder: Path, seen: tuple = ()) -> dict:
    """A service's spec with `extends` merged in, as Compose does for these keys."""
    extends = spec.get("extends")
    if not extends:
        return spec
    file = (folder / extends["file"]).resolve()
    if (file, extends["service"]) in seen:
        raise LabkitError(f"{file}: `extends` loops back on itself")
    try:
        base_spec = yaml.safe_load(file.read_text())["services"][extends["service"]]
    except (OSError, KeyError, TypeError) as error:
        raise LabkitError(f"cannot extend {extends}: {error}") from None
    base = _resolve(base_spec, file.parent, seen + ((file, extends["service"]),))
    merged = {**base, **{k: v for k, v in spec.items() if k != "extends"}}
    for key in ("environment", "labels"):
        merged[key] = {**_as_dict(base.get(key)), **_as_dict(spec.get(key))}
    return merged


def load_services(compose_file: Path, env: Mapping[str, str]) -> dict[str, Service]:
    try:
        document = yaml.safe_load(compose_file.read_text())
    except (OSError, yaml.YAMLError) as error:
        raise LabkitError(f"cannot read {compose_file}: {error}") from None
    services = {}
    for name, spec in (document.get("services") or {}).items():
        spec = _resolve(spec or {}, compose_file.parent)
        settings = {
            key: Setting(key, str(raw), interpolate(str(raw), env))
            for key, raw in _as_dict(spec.get("environment")).items()
        }
        role = _as_dict(spec.get("labels")).get("labkit.role")
        services[name] = Service(name, role, settings)
    return services


def services_with_role(services: dict[str, Service], role: str) -> list[Service]:
    return [s for s in services.values() if s.role == role]


def haproxy_service(services: dict[str, Service], compose_file: Path) -> Service:
    found = services_with_role(services, "haproxy")
    if len(found) != 1:
        raise LabkitError(
            f"{compose_file}: expected one service extending haproxy/compose.service.yaml, found {len(found)}"
        )
    return found[0]
