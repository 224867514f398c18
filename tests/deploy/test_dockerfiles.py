"""Dockerfile.cuda and Dockerfile.rocm: hadolint clean, and what the images promise.

No Docker engine runs here, so the images are not built in the tests; these checks
cover what can be checked without one: lint, the build context (every COPY source
exists and survives .dockerignore), the runtime contract (non-root, health probe,
ports, config) and the ROCm build's pins.
"""

from __future__ import annotations

import fnmatch
import re
import subprocess
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from dragoman.server.settings import Settings

REPO = Path(__file__).resolve().parents[2]
DOCKERFILES = ("Dockerfile.cuda", "Dockerfile.rocm")


def instructions(dockerfile: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    lines = (REPO / dockerfile).read_text(encoding="utf-8").splitlines()
    joined: list[str] = []
    current = ""
    for line in lines:
        if line.lstrip().startswith("#") and not current:
            continue
        if line.lstrip().startswith("#"):
            continue
        current += line.rstrip("\\").rstrip() + " " if line.endswith("\\") else line
        if not line.endswith("\\"):
            if current.strip():
                joined.append(current.strip())
            current = ""
    pairs = []
    for statement in joined:
        keyword, _, rest = statement.partition(" ")
        pairs.append((keyword.upper(), rest.strip()))
    return pairs


def final_stage(dockerfile: str) -> list[tuple[str, str]]:
    """The instructions of the last stage (the image that ships)."""
    pairs = instructions(dockerfile)
    last_from = max(i for i, (keyword, _) in enumerate(pairs) if keyword == "FROM")
    return pairs[last_from:]


def dockerignored(path: str) -> bool:
    """Whether .dockerignore keeps `path` (relative to the context) out of the build."""
    ignored = False
    for raw in (REPO / ".dockerignore").read_text(encoding="utf-8").splitlines():
        pattern = raw.strip()
        if not pattern or pattern.startswith("#"):
            continue
        negate = pattern.startswith("!")
        pattern = pattern.lstrip("!").rstrip("/")
        parts = path.split("/")
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        if any(fnmatch.fnmatch(prefix, pattern) for prefix in prefixes) or (
            pattern.startswith("**/") and any(fnmatch.fnmatch(p, pattern[3:]) for p in parts)
        ):
            ignored = not negate
    return ignored


@pytest.mark.parametrize("dockerfile", DOCKERFILES)
def test_hadolint_passes(dockerfile: str, find_tool: Callable[[str], str]) -> None:
    result = subprocess.run(
        [find_tool("hadolint"), "--no-color", "--failure-threshold", "info", dockerfile],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("dockerfile", DOCKERFILES)
def test_copy_sources_exist_in_the_build_context(dockerfile: str) -> None:
    copies = [rest for keyword, rest in instructions(dockerfile) if keyword == "COPY"]
    checked = 0
    for rest in copies:
        words = rest.split()
        if any(w.startswith("--from=") for w in words):
            continue
        sources = [w for w in words if not w.startswith("--")][:-1]
        for source in sources:
            assert (REPO / source).exists(), f"{dockerfile}: COPY {source}: no such path"
            assert not dockerignored(source), f"{dockerfile}: COPY {source}: .dockerignore drops it"
            checked += 1
    assert checked >= 8


@pytest.mark.parametrize("dockerfile", DOCKERFILES)
def test_runtime_stage_runs_non_root_with_a_grpc_health_probe(dockerfile: str) -> None:
    stage = final_stage(dockerfile)
    keywords = dict(stage)
    user = keywords["USER"].split(":")[0]
    assert user.isdigit() and int(user) > 0, "numeric non-root USER (runAsNonRoot needs it)"
    assert "dragoman-healthcheck" in keywords["HEALTHCHECK"]
    assert set(keywords["EXPOSE"].split()) == {"50051", "9464"}
    assert keywords["ENTRYPOINT"] == '["dragoman"]'
    copies = " ".join(rest for keyword, rest in stage if keyword == "COPY")
    assert "deploy/healthcheck.py /opt/dragoman/bin/dragoman-healthcheck" in copies
    assert "deploy/docker/dragoman.yaml /etc/dragoman/dragoman.yaml" in copies


@pytest.mark.parametrize("dockerfile", DOCKERFILES)
def test_image_environment_names_real_settings(
    dockerfile: str, check_env: Callable[[dict[str, str]], None]
) -> None:
    env: dict[str, str] = {}
    for keyword, rest in final_stage(dockerfile):
        if keyword == "ENV":
            for pair in rest.split():
                name, _, value = pair.partition("=")
                env[name] = value
    assert env["DRAGOMAN_HOST"] == "0.0.0.0"
    check_env(env)


@pytest.mark.parametrize("dockerfile", DOCKERFILES)
def test_images_install_no_torch(dockerfile: str) -> None:
    runs = " ".join(rest for keyword, rest in final_stage(dockerfile) if keyword == "RUN")
    assert "torch" not in runs.replace("find_spec('torch') is not None", "")
    assert "find_spec('torch') is not None" in runs


def test_default_image_config_is_valid_and_mounts_models_read_only() -> None:
    settings = Settings.load(REPO / "deploy" / "docker" / "dragoman.yaml")
    assert [m.path for m in settings.models] == ["/models"]
    assert settings.grace_period_s == 30


def test_cuda_image_uses_a_cuda12_runtime_base() -> None:
    args = dict(
        rest.split("=", 1) for keyword, rest in instructions("Dockerfile.cuda") if keyword == "ARG"
    )
    pattern = r"nvidia/cuda:12\.\d+\.\d+-cudnn-runtime-ubuntu\d+\.\d+"
    assert re.fullmatch(pattern, args["CUDA_IMAGE"])


def test_rocm_build_pins_the_wheel_version_and_applies_the_patch() -> None:
    pairs = instructions("Dockerfile.rocm")
    args = dict(rest.split("=", 1) for keyword, rest in pairs if keyword == "ARG" and "=" in rest)
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    pins = [d for d in pyproject["project"]["dependencies"] if d.startswith("ctranslate2==")]
    assert pins == [f"ctranslate2=={args['CT2_VERSION']}"], "ROCm build and wheel pin differ"
    archs = args["HIP_ARCHITECTURES"].strip('"').split(";")
    assert {"gfx90a", "gfx942", "gfx1030", "gfx1100"} <= set(archs)
    assert all(re.fullmatch(r"gfx[0-9a-f]+", a) for a in archs)
    runs = [rest for keyword, rest in pairs if keyword == "RUN"]
    clone = next(r for r in runs if "git clone" in r)
    assert '--branch "v${CT2_VERSION}"' in clone
    apply_at = next(i for i, r in enumerate(runs) if "apply" in r and "ct2_rocm.patch" in r)
    build_at = next(i for i, r in enumerate(runs) if "-DWITH_HIP=ON" in r)
    assert apply_at < build_at, "the patch must be applied before CMake builds"
    assert "-DCMAKE_HIP_ARCHITECTURES=" in runs[build_at]


def test_compose_and_kubernetes_use_the_image_config_path() -> None:
    """The images' CMD, compose's command and the Deployment's args agree."""
    cmd = dict(final_stage("Dockerfile.cuda"))["CMD"]
    compose = yaml.safe_load((REPO / "deploy" / "docker-compose.yml").read_text())
    deployment = yaml.safe_load((REPO / "deploy" / "k8s" / "base" / "deployment.yaml").read_text())
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert yaml.safe_load(cmd) == compose["services"]["dragoman"]["command"] == container["args"]


@pytest.mark.parametrize(
    ("path", "ignored"),
    [
        (".venv/bin/python", True),
        (".git/HEAD", True),
        ("tests/conftest.py", True),
        ("engine/__pycache__/model.cpython-311.pyc", True),
        ("deploy/k8s/base/deployment.yaml", True),
        ("deploy/healthcheck.py", False),
        ("dragoman/models/demo/model.bin", False),
        ("engine/service.py", False),
    ],
    ids=lambda value: str(value),
)
def test_dockerignore_keeps_environments_out_and_sources_in(path: str, ignored: bool) -> None:
    assert dockerignored(path) is ignored


@pytest.mark.parametrize("dockerfile", DOCKERFILES)
def test_kubernetes_runs_the_image_user(dockerfile: str) -> None:
    user, group = dict(final_stage(dockerfile))["USER"].split(":")
    deployment = yaml.safe_load((REPO / "deploy" / "k8s" / "base" / "deployment.yaml").read_text())
    context = deployment["spec"]["template"]["spec"]["securityContext"]
    assert (context["runAsUser"], context["runAsGroup"]) == (int(user), int(group))
