"""deploy/k8s: every manifest and every rendered overlay is valid Kubernetes, and the
pieces fit together (selectors, probes, drain timing, GPU requests, the server config).

Schemas: kubernetes-validate (offline JSON schemas of the built-in kinds, strict: unknown
fields fail) for the oldest supported (1.30, the first with the preStop `sleep` action on
by default) and the newest shipped version. Custom resources have no built-in schema:
SCHEMA_FOR_CRD maps each one dragoman uses to its own schema in schemas/; any other kind
without a schema fails.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml
from dragoman.server.settings import Settings

REPO = Path(__file__).resolve().parents[2]
K8S = REPO / "deploy" / "k8s"
OVERLAYS = ("cpu", "cuda", "rocm")
K8S_VERSIONS = ("1.30.0", "1.37.0")
SCHEMA_FOR_CRD = {
    ("monitoring.coreos.com/v1", "ServiceMonitor"): "servicemonitor.schema.json",
}
GPU_RESOURCE = {"cpu": None, "cuda": "nvidia.com/gpu", "rocm": "amd.com/gpu"}
SERVER_LABELS = {"app.kubernetes.io/name": "dragoman", "app.kubernetes.io/component": "server"}

Render = Callable[[Path], list[dict[str, Any]]]


def validate(obj: dict[str, Any]) -> None:
    """Validates one object against its schema for every supported Kubernetes version."""
    crd_schema = SCHEMA_FOR_CRD.get((obj["apiVersion"], obj["kind"]))
    if crd_schema:
        schema = json.loads((Path(__file__).parent / "schemas" / crd_schema).read_text())
        jsonschema.validate(obj, schema)
        return
    for version in K8S_VERSIONS:
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.ValidationError as error:
            name = f"{obj['kind']}/{obj['metadata']['name']}"
            pytest.fail(f"{name} is invalid for Kubernetes {version}: {error.message}")


def find(objects: list[dict[str, Any]], kind: str, name: str | None = None) -> dict[str, Any]:
    """The one object of `kind` (and `name`) among `objects`."""
    found = [o for o in objects if o["kind"] == kind and name in (None, o["metadata"]["name"])]
    assert len(found) == 1, f"expected one {kind} {name or ''}, found {len(found)}"
    return found[0]


def server_container(objects: list[dict[str, Any]]) -> dict[str, Any]:
    pod = find(objects, "Deployment", "dragoman")["spec"]["template"]["spec"]
    return next(c for c in pod["containers"] if c["name"] == "dragoman")


def plain_manifests() -> list[Path]:
    """Every manifest file under deploy/k8s that is not a kustomization or a patch."""
    return sorted(
        p
        for p in K8S.rglob("*.yaml")
        if p.name != "kustomization.yaml"
        and not p.name.endswith("-patch.yaml")
        and p.name != "dragoman.yaml"
    )


@pytest.mark.parametrize("path", plain_manifests(), ids=lambda p: str(p.relative_to(K8S)))
def test_every_manifest_file_is_valid(path: Path) -> None:
    documents = [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d]
    assert documents
    for obj in documents:
        validate(obj)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_rendered_overlay_is_valid(overlay: str, render: Render) -> None:
    objects = render(K8S / "overlays" / overlay)
    kinds = sorted(o["kind"] for o in objects)
    assert kinds == sorted(
        ["ConfigMap", "ConfigMap", "Deployment", "Deployment", "HorizontalPodAutoscaler",
         "NetworkPolicy", "PersistentVolumeClaim", "PodDisruptionBudget", "Service", "Service",
         "Service"]
    )  # fmt: skip
    for obj in objects:
        validate(obj)
        assert obj["metadata"]["labels"]["app.kubernetes.io/part-of"] == "dragoman"


def test_servicemonitor_component_renders_and_targets_the_metrics_port(
    render: Render, tmp_path: Path
) -> None:
    """An overlay that opts in to the Prometheus Operator component."""
    shutil.copytree(K8S, tmp_path / "k8s")
    overlay = tmp_path / "k8s" / "overlays" / "with-operator"
    overlay.mkdir()
    (overlay / "kustomization.yaml").write_text(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
        "resources: [../cuda]\ncomponents: [../../components/prometheus-operator]\n"
    )
    objects = render(overlay)
    monitor = find(objects, "ServiceMonitor", "dragoman")
    validate(monitor)
    service = find(objects, "Service", "dragoman")
    selector = monitor["spec"]["selector"]["matchLabels"]
    assert selector.items() <= service["metadata"]["labels"].items()
    port_names = {p["name"] for p in service["spec"]["ports"]}
    assert {e["port"] for e in monitor["spec"]["endpoints"]} <= port_names


def test_an_unknown_field_is_rejected() -> None:
    """The validator is strict: a misspelt field fails instead of being dropped."""
    deployment = yaml.safe_load((K8S / "base" / "deployment.yaml").read_text())
    deployment["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, K8S_VERSIONS[-1], strict=True)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_selectors_and_references_resolve(overlay: str, render: Render) -> None:
    objects = render(K8S / "overlays" / overlay)
    deployment = find(objects, "Deployment", "dragoman")
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
    for name in ("dragoman", "dragoman-headless"):
        assert find(objects, "Service", name)["spec"]["selector"].items() <= pod_labels.items()
    assert find(objects, "Service", "dragoman-headless")["spec"]["clusterIP"] == "None"
    pdb = find(objects, "PodDisruptionBudget", "dragoman")
    assert pdb["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
    hpa = find(objects, "HorizontalPodAutoscaler", "dragoman")
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1", "kind": "Deployment", "name": "dragoman"
    }  # fmt: skip
    assert hpa["spec"]["minReplicas"] >= 2, "the PDB needs a second replica to drain one"

    volumes = {v["name"]: v for v in deployment["spec"]["template"]["spec"]["volumes"]}
    config_map = volumes["config"]["configMap"]["name"]
    assert config_map.startswith("dragoman-config-"), "the generated (hashed) name is used"
    find(objects, "ConfigMap", config_map)
    claim = volumes["models"]["persistentVolumeClaim"]
    assert claim["readOnly"] is True
    find(objects, "PersistentVolumeClaim", claim["claimName"])
    mounts = {m["name"]: m for m in server_container(objects)["volumeMounts"]}
    assert mounts["models"]["mountPath"] == "/models" and mounts["models"]["readOnly"] is True

    dragonfly = find(objects, "Service", "dragonfly")
    env = {e["name"]: e.get("value") for e in server_container(objects)["env"]}
    port = dragonfly["spec"]["ports"][0]["port"]
    assert env["DRAGOMAN_CACHE_URL"] == f"redis://:$(DRAGONFLY_PASSWORD)@dragonfly:{port}/0"
    dragonfly_pods = find(objects, "Deployment", "dragonfly")["spec"]["template"]["metadata"]
    assert dragonfly["spec"]["selector"].items() <= dragonfly_pods["labels"].items()


def _secret_refs(container: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """env name -> (Secret, key) of a container's variables taken from Secrets."""
    return {
        e["name"]: (e["valueFrom"]["secretKeyRef"]["name"], e["valueFrom"]["secretKeyRef"]["key"])
        for e in container.get("env", [])
        if "secretKeyRef" in e.get("valueFrom", {})
    }


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_dragonfly_needs_a_password_and_admits_only_dragoman(overlay: str, render: Render) -> None:
    objects = render(K8S / "overlays" / overlay)
    server = server_container(objects)
    cache_pod = find(objects, "Deployment", "dragonfly")["spec"]["template"]
    (cache,) = cache_pod["spec"]["containers"]
    # One Secret holds the password: Dragonfly requires it, dragoman's URL carries it.
    password = _secret_refs(cache)["DFLY_requirepass"]
    server_secrets = _secret_refs(server)
    assert server_secrets["DRAGONFLY_PASSWORD"] == password
    assert server_secrets["DRAGOMAN_CACHE_SECRET"][0] == password[0]
    assert not any(e.get("optional") for e in (e.get("valueFrom", {}).get("secretKeyRef", {})
                                               for e in server["env"] + cache["env"]))  # fmt: skip
    names = [e["name"] for e in server["env"]]
    # $(VAR) expands only variables defined before it.
    assert names.index("DRAGONFLY_PASSWORD") < names.index("DRAGOMAN_CACHE_URL")
    assert "--requirepass" not in " ".join(cache.get("args", []))  # never in `ps`
    # The NetworkPolicy: Dragonfly's pods take connections from dragoman's server pods only.
    policy = find(objects, "NetworkPolicy", "dragonfly")
    assert policy["spec"]["policyTypes"] == ["Ingress"]
    selected = policy["spec"]["podSelector"]["matchLabels"]
    assert selected.items() <= cache_pod["metadata"]["labels"].items()
    (rule,) = policy["spec"]["ingress"]
    (peer,) = rule["from"]
    assert set(peer) == {"podSelector"}, "no namespace or IP blocks"
    server_pods = find(objects, "Deployment", "dragoman")["spec"]["template"]["metadata"]
    assert peer["podSelector"]["matchLabels"].items() <= server_pods["labels"].items()
    assert peer["podSelector"]["matchLabels"] == SERVER_LABELS
    ports = {p["name"] for p in cache["ports"]}
    assert [p["port"] for p in rule["ports"]] == ["redis"] and "redis" in ports
    # Not scraped: the policy would refuse Prometheus anyway.
    assert "prometheus.io/scrape" not in cache_pod["metadata"].get("annotations", {})


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_environment_names_real_settings(
    overlay: str, render: Render, check_env: Callable[[dict[str, str]], None]
) -> None:
    container = server_container(render(K8S / "overlays" / overlay))
    env = {e["name"]: e.get("value", "from-a-secret") for e in container["env"]}
    env["DRAGOMAN_CACHE_URL"] = env["DRAGOMAN_CACHE_URL"].replace(
        "$(DRAGONFLY_PASSWORD)", "password"
    )
    check_env(env)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_probes_speak_grpc_health_on_the_serving_port(overlay: str, render: Render) -> None:
    objects = render(K8S / "overlays" / overlay)
    container = server_container(objects)
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert str(ports["grpc"]) == env["DRAGOMAN_PORT"]
    assert str(ports["metrics"]) == env["DRAGOMAN_METRICS_PORT"]
    assert env["DRAGOMAN_HOST"] == "0.0.0.0"
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert container[probe]["grpc"]["port"] == ports["grpc"], probe
    pod = find(objects, "Deployment", "dragoman")["spec"]["template"]
    assert pod["metadata"]["annotations"]["prometheus.io/port"] == str(ports["metrics"])
    assert pod["spec"]["securityContext"]["runAsNonRoot"] is True


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_termination_grace_covers_prestop_and_the_server_drain(
    overlay: str, render: Render
) -> None:
    """The kubelet must not SIGKILL a pod that is still draining in-flight RPCs."""
    objects = render(K8S / "overlays" / overlay)
    config_map = next(o for o in objects if o["metadata"]["name"].startswith("dragoman-config"))
    config = yaml.safe_load(config_map["data"]["dragoman.yaml"])
    drain = Settings(**config).grace_period_s
    pod = find(objects, "Deployment", "dragoman")["spec"]["template"]["spec"]
    pre_stop = server_container(objects)["lifecycle"]["preStop"]["sleep"]["seconds"]
    assert pre_stop >= 1
    assert pod["terminationGracePeriodSeconds"] >= pre_stop + drain + 5


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_overlay_config_is_a_valid_server_config(overlay: str, tmp_path: Path) -> None:
    settings = Settings.load(K8S / "overlays" / overlay / "dragoman.yaml")
    assert all(m.path.startswith("/models/") for m in settings.models)
    expected_device = "cpu" if overlay == "cpu" else "cuda"
    assert {m.device for m in settings.models} == {expected_device}


def test_base_config_is_a_valid_server_config() -> None:
    settings = Settings.load(K8S / "base" / "dragoman.yaml")
    assert settings.models[0].path.startswith("/models/")


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_gpu_overlays_request_one_gpu_and_tolerate_gpu_taints(overlay: str, render: Render) -> None:
    objects = render(K8S / "overlays" / overlay)
    resources = server_container(objects)["resources"]
    pod = find(objects, "Deployment", "dragoman")["spec"]["template"]["spec"]
    gpu = GPU_RESOURCE[overlay]
    requested = {k for k in resources.get("limits", {}) if k.endswith("/gpu")}
    if gpu is None:
        assert requested == set() and "tolerations" not in pod
        return
    assert requested == {gpu} and resources["limits"][gpu] == 1
    assert [t["key"] for t in pod["tolerations"]] == [gpu]
    image = server_container(objects)["image"]
    assert image.endswith("-rocm" if overlay == "rocm" else "-cuda12")


def test_cpu_overlay_threads_fit_the_cpu_request(render: Render) -> None:
    """inter_threads x intra_threads CPU threads per model must not oversubscribe the pod."""
    objects = render(K8S / "overlays" / "cpu")
    settings = Settings.load(K8S / "overlays" / "cpu" / "dragoman.yaml")
    threads = sum(m.inter_threads * m.intra_threads for m in settings.models)
    cpu = float(server_container(objects)["resources"]["requests"]["cpu"])
    assert 0 < threads <= cpu
