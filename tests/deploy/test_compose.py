"""deploy/docker-compose.yml: the services, their files and their wiring agree.

No Docker engine runs here: the file is parsed and every reference checked (bind-mount
sources exist, scrape targets and data-source URLs name real services and ports, the
server configs are valid `Settings`).
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from dragoman.server.settings import ModelSettings, Settings

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
DASHBOARD = DEPLOY / "grafana" / "dragoman.json"


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "docker-compose.yml").read_text(encoding="utf-8"))


def substitute(value: str) -> str:
    """Compose's `${VAR:-default}` with the defaults (the tests set no variables), and
    required `${VAR:?message}` ones with a stand-in."""
    value = re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", value)
    return re.sub(r"\$\{([A-Z_]+):\?[^}]*\}", r"<\1>", value)


def bind_mounts(service: dict[str, Any]) -> list[tuple[Path, str, str]]:
    """(host path, container path, mode) of a service's bind mounts."""
    mounts = []
    for volume in service.get("volumes", []):
        source, target, *mode = substitute(volume).split(":")
        mounts.append(((DEPLOY / source).resolve(), target, mode[0] if mode else "rw"))
    return mounts


def seconds(duration: str) -> float:
    match = re.fullmatch(r"(\d+)s", duration)
    assert match, duration
    return float(match.group(1))


def test_dclint_passes_schema_and_best_practices() -> None:
    """dclint (npm, installed by .ci/system-deps) validates against the Compose schema."""
    dclint = REPO / ".tools" / "node_modules" / ".bin" / "dclint"
    assert dclint.is_file(), "dclint is missing: run `make system-deps`"
    files = [DEPLOY / "docker-compose.yml", DEPLOY / "compose" / "gpu.yml"]
    result = subprocess.run(
        [str(dclint), "--max-warnings", "0", "--color", "false", *map(str, files)],
        cwd=REPO, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


def test_services(compose: dict[str, Any]) -> None:
    assert set(compose["services"]) == {"dragoman", "dragonfly", "prometheus", "grafana"}
    build = compose["services"]["dragoman"]["build"]
    assert (DEPLOY / build["context"] / build["dockerfile"]).is_file()
    for name, service in compose["services"].items():
        for dependency in service.get("depends_on", []):
            assert dependency in compose["services"], f"{name} depends on {dependency}"


def test_bind_mounts_exist_and_are_read_only(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        for source, target, mode in bind_mounts(service):
            # The dashboard belongs to the metrics component; the Grafana test checks it.
            if source != DASHBOARD:
                assert source.exists(), f"{name}: {source} (mounted at {target}) is missing"
            assert mode == "ro", f"{name}: {target} should be mounted read-only"
    targets = {t for _, t, _ in bind_mounts(compose["services"]["dragoman"])}
    assert targets == {"/models", "/etc/dragoman/dragoman.yaml"}


def published(service: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """container port -> (host interface, host port) of a service's `ports`."""
    mapping = {}
    for port in service.get("ports", []):
        interface, host, container = str(port).split(":")
        mapping[container] = (interface, host)
    return mapping


def test_ports_are_unique_and_published_on_loopback_only(compose: dict[str, Any]) -> None:
    ports = [p for service in compose["services"].values() for p in published(service).values()]
    assert {interface for interface, _ in ports} == {"127.0.0.1"}
    host_ports = [host for _, host in ports]
    assert len(host_ports) == len(set(host_ports))
    assert {"50051", "9464", "9090", "3000"} <= set(host_ports)


def test_server_configs_are_valid(compose: dict[str, Any]) -> None:
    settings = Settings.load(DEPLOY / "compose" / "dragoman.yaml")
    stop_grace = seconds(compose["services"]["dragoman"]["stop_grace_period"])
    assert stop_grace >= settings.grace_period_s + 5
    gpu = yaml.safe_load((DEPLOY / "compose" / "gpu.yml").read_text(encoding="utf-8"))
    service = gpu["services"]["dragoman"]
    models = [ModelSettings(**m) for m in json.loads(service["environment"]["DRAGOMAN_MODELS"])]
    assert [m.device for m in models] == ["cuda"]
    devices = service["deploy"]["resources"]["reservations"]["devices"]
    assert devices[0]["driver"] == "nvidia"


def test_environment_names_real_settings(
    compose: dict[str, Any], check_env: Callable[[dict[str, str]], None]
) -> None:
    environment = compose["services"]["dragoman"]["environment"]
    check_env({name: substitute(value) for name, value in environment.items()})
    gpu = yaml.safe_load((DEPLOY / "compose" / "gpu.yml").read_text(encoding="utf-8"))
    check_env(gpu["services"]["dragoman"]["environment"])


def test_cache_url_names_the_dragonfly_service(compose: dict[str, Any]) -> None:
    url = compose["services"]["dragoman"]["environment"]["DRAGOMAN_CACHE_URL"]
    assert substitute(url) == "redis://:<DRAGONFLY_PASSWORD>@dragonfly:6379/0"
    assert "6379" in [str(p) for p in compose["services"]["dragonfly"]["expose"]]


def test_dragonfly_needs_a_password_and_only_dragoman_reaches_it(compose: dict[str, Any]) -> None:
    services = compose["services"]
    dragonfly, dragoman = services["dragonfly"], services["dragoman"]
    # Required variables (`:?`): compose refuses to start without them.
    password = dragonfly["environment"]["DFLY_requirepass"]
    assert substitute(password) == "<DRAGONFLY_PASSWORD>" and ":?" in password
    assert ":?" in dragoman["environment"]["DRAGOMAN_CACHE_SECRET"]
    assert "requirepass" not in " ".join(dragonfly["command"])  # never in `ps`
    assert "ports" not in dragonfly, "the cache is never published"
    # Its only network is internal, and dragoman is the only other service on it.
    assert dragonfly["networks"] == ["cache"]
    assert compose["networks"]["cache"]["internal"] is True
    on_cache = {name for name, s in services.items() if "cache" in s.get("networks", [])}
    assert on_cache == {"dragoman", "dragonfly"}


def test_prometheus_scrapes_dragoman(compose: dict[str, Any]) -> None:
    config = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    targets = {
        job["job_name"]: target
        for job in config["scrape_configs"]
        for group in job["static_configs"]
        for target in group["targets"]
    }
    assert targets["dragoman"] == "dragoman:9464"
    assert "9464" in published(compose["services"]["dragoman"])
    assert "dragonfly" not in targets, "Dragonfly is on a network Prometheus is not on"
    mounts = {t: s for s, t, _ in bind_mounts(compose["services"]["prometheus"])}
    assert mounts["/etc/prometheus/prometheus.yml"] == DEPLOY / "prometheus" / "prometheus.yml"


def test_grafana_provisions_prometheus_and_the_dashboard(compose: dict[str, Any]) -> None:
    provisioning = DEPLOY / "compose" / "grafana" / "provisioning"
    sources = yaml.safe_load((provisioning / "datasources" / "prometheus.yaml").read_text())
    (source,) = sources["datasources"]
    assert source["url"] == "http://prometheus:9090"
    assert "9090" in published(compose["services"]["prometheus"])
    providers = yaml.safe_load((provisioning / "dashboards" / "dragoman.yaml").read_text())
    dashboards_dir = providers["providers"][0]["options"]["path"]
    mounts = {t: s for s, t, _ in bind_mounts(compose["services"]["grafana"])}
    dashboard = mounts[f"{dashboards_dir}/dragoman.json"]
    assert dashboard == DASHBOARD
    if not dashboard.is_file():
        pytest.skip("deploy/grafana/dragoman.json (the metrics component's dashboard) is missing")
    panels = json.loads(dashboard.read_text(encoding="utf-8"))
    uids = {
        ref["uid"]
        for ref in _datasource_refs(panels)
        if isinstance(ref, dict) and "uid" in ref and not str(ref["uid"]).startswith("$")
    }
    assert uids <= {source["uid"], "-- Grafana --", "grafana"}, "unknown data source uid"
    # Data-source template variables must default to the provisioned Prometheus.
    variables = panels.get("templating", {}).get("list", [])
    for variable in (v for v in variables if v.get("type") == "datasource"):
        assert variable["query"] == source["type"]
        assert variable.get("current", {}).get("value") in (None, "", source["uid"])


def _datasource_refs(node: Any) -> list[Any]:
    """Every `datasource` value in a dashboard JSON tree."""
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "datasource":
                found.append(value)
            found.extend(_datasource_refs(value))
    elif isinstance(node, list):
        for item in node:
            found.extend(_datasource_refs(item))
    return found
