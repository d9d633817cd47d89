"""Every lab's files, checked without starting anything."""

import os
import re
import shlex
import subprocess

import pytest
import yaml

from labkit import compose, haproxy, images, paths, runner
from labkit.labs import all_labs
from labkit.runtimes import docker as docker_runtime

LABS = all_labs()


def test_there_are_labs():
    assert LABS, "no labs/*/lab.toml found"


@pytest.mark.parametrize("lab", LABS, ids=lambda lab: lab.name)
def test_haproxy_accepts_the_lab_config(lab):
    """`labkit check N`: the real haproxy binary (Debian's 2.6 here) validates the lab's own file."""
    result = subprocess.run([paths.ROOT / ".venv/bin/labkit", "check", str(lab.number)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"labs/{lab.name}/haproxy.cfg: HAProxy accepts it.", "warnings: " + result.stdout


@pytest.mark.parametrize("line", ["3.0", "3.2"])
def test_every_config_and_solution_passes_haproxy_c_on_the_newer_lines(docker_engine, line, tmp_path):
    """Learners meet HAProxy 2.6 (Debian 12: the local runtime here, checked above), 3.0
    (Debian 13: the Docker labs' offline base) and 3.2 (the pinned official image). Each
    must accept every lab's config, which is also its exercise's starting point, and every
    exercise's solution, with no warning. One container per line checks them all."""
    engine = docker_runtime.client()
    image = images.check_images(engine)[line]
    if not images.present(engine, image):
        # CI must check every line; elsewhere, `make test` said why it could not make the image.
        assert not os.environ.get("LABKIT_REQUIRE_HAPROXY_LINES"), f"{image} is missing"
        pytest.skip(f"{image} is not here; as root, `make test` makes it with debootstrap")
    inside = paths.Path("/check")
    steps = []
    for lab in LABS:
        for config in (lab.config, lab.path / "exercise" / "solution.cfg"):
            mapped, env = runner.offline_check_input(lab, config, tmp_path, seen_as=inside)
            settings = " ".join(f"{key}={shlex.quote(value)}" for key, value in env.items())
            steps.append(f"said=$(env {settings} haproxy -c -f {inside / mapped.name} 2>&1);"
                         f" echo \"== $? {paths.shown(config)}\"; echo \"$said\"")
    for path in [tmp_path, *tmp_path.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)  # for the container's unprivileged user
    output = engine.containers.run(
        image, ["sh", "-c", "haproxy -v | head -n 1\n" + "\n".join(steps)], remove=True, network_mode="none",
        user="65534:65534", volumes={str(tmp_path): {"bind": str(inside), "mode": "ro"}},
        # With no network, HAProxy 3.x warns that a `resolvers` section's nameserver (the
        # host's, copied in) is unreachable; a loopback one can be connected to.
        dns=["127.0.0.1"],
        labels={docker_runtime.PROJECT_LABEL: paths.project_prefix() + "versions", "labkit.role": "config-check"},
    ).decode()
    version, *reports = re.split(r"^== ", output, flags=re.MULTILINE)
    assert version.startswith(f"HAProxy version {line}."), version
    assert len(reports) == 2 * len(LABS), output
    for report in reports:
        status, config, said = re.match(r"(\d+) (\S+)\n(.*)", report, re.DOTALL).groups()
        # 0: valid; 2: valid, with nothing to listen on (3.x); 1: refused.
        assert status in ("0", "2") and "WARNING" not in said and "ALERT" not in said, f"HAProxy {line}, {config}:\n{said}"


@pytest.mark.parametrize("lab", LABS, ids=lambda lab: lab.name)
def test_every_port_haproxy_binds_is_published_on_loopback_only(lab):
    raw = yaml.safe_load(lab.compose_file.read_text())
    services = compose.load_services(lab.compose_file, {})
    name = compose.haproxy_service(services, lab.compose_file).name
    published = raw["services"][name].get("ports", [])
    ports = compose.haproxy_service(services, lab.compose_file).ports
    assert ports, "the haproxy service sets no *_PORT"
    for setting in ports:
        # The same number inside the container and on the host, so the docs name one port.
        assert f"127.0.0.1:{setting.raw}:{setting.raw}" in published, setting
        assert setting.variable == f"LAB{lab.number}_{setting.key}", "movable by LAB<N>_<KEY>"
    for entry in published:
        assert str(entry).startswith("127.0.0.1:"), entry


def test_no_two_labs_share_a_port():
    owners = {}
    for lab in LABS:
        services = compose.load_services(lab.compose_file, {})
        for setting in compose.haproxy_service(services, lab.compose_file).ports:
            port = int(setting.value)
            assert port not in owners, f"{lab.name} and {owners.get(port)} both use {port}"
            owners[port] = lab.name


def test_images_are_pinned_and_defaults_agree():
    """The Dockerfiles' default base images are pinned tags, and the compose templates
    name the same ones."""
    templates = (paths.ROOT / "backends/compose.service.yaml").read_text() + \
        (paths.ROOT / "haproxy/compose.service.yaml").read_text()
    for folder, arg, variable in images.KIT_BUILDS.values():
        default = images.dockerfile_default(folder / "Dockerfile", arg)
        assert re.fullmatch(r"[\w./-]+:\d[\w.-]*", default), f"{default} is not pinned to a version tag"
        assert f"${{{variable}:-{default}}}" in templates


@pytest.mark.parametrize("lab", LABS, ids=lambda lab: lab.name)
def test_every_service_has_a_healthcheck_and_haproxy_waits_for_its_backends(lab):
    # The kit runs each service's healthcheck probe itself as it starts a lab in Docker;
    # depends_on orders a `docker compose up` typed by hand.
    raw = yaml.safe_load(lab.compose_file.read_text())["services"]
    services = compose.load_services(lab.compose_file, {})
    backends = {s.name for s in compose.services_with_role(services, "backend")}
    assert backends
    for name in raw:
        base = yaml.safe_load((lab.path / raw[name]["extends"]["file"]).read_text())
        assert "healthcheck" in base["services"][raw[name]["extends"]["service"]], name
    haproxy_name = compose.haproxy_service(services, lab.compose_file).name
    depends = raw[haproxy_name]["depends_on"]
    assert {name for name, d in depends.items() if d["condition"] == "service_healthy"} == backends


@pytest.mark.parametrize("lab", LABS, ids=lambda lab: lab.name)
def test_server_names_are_the_services_they_point_at(lab):
    """The stats page and the X-Backend header then speak of the same app1."""
    services = compose.load_services(lab.compose_file, {})
    text = lab.config.read_text()
    relays = {section.name for section in haproxy.runtime_api_relays(haproxy.sections(text))}
    for server in haproxy.servers(text):
        if server.backend in relays:
            continue  # its server is HAProxy's own Runtime API socket (lab 13)
        host = server.address.rsplit(":", 1)[0]
        assert host in services, f"{server} points at no service"
        assert server.name == host, server


def test_the_kit_names_the_images_the_templates_build():
    """Client containers, `make images` and `make doctor` use these names."""
    for folder, service, image in (("backends", "backend", images.BACKEND_IMAGE),
                                   ("haproxy", "haproxy", images.HAPROXY_IMAGE)):
        template = yaml.safe_load((paths.ROOT / folder / "compose.service.yaml").read_text())
        assert template["services"][service]["image"] == image
        assert images.KIT_BUILDS[image][0] == paths.ROOT / folder  # what the kit builds it from


@pytest.mark.parametrize("lab", LABS, ids=lambda lab: lab.name)
def test_the_haproxy_service_is_called_haproxy(lab):
    """Client containers inside a lab's network reach it by that name."""
    services = compose.load_services(lab.compose_file, {})
    assert compose.haproxy_service(services, lab.compose_file).name == "haproxy"


@pytest.mark.parametrize("lab", LABS, ids=lambda lab: lab.name)
def test_docker_mounts_the_config_the_kit_names(lab):
    """The lab's own haproxy.cfg by default; a learner's exercise copy when the kit says so."""
    raw = yaml.safe_load(lab.compose_file.read_text())
    assert "${LABKIT_CONFIG:-./haproxy.cfg}:/usr/local/etc/haproxy/haproxy.cfg:ro" in raw["services"]["haproxy"]["volumes"]
