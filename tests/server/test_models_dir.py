"""`--models-dir`: the newest version of each name is served at start; finished new
versions are loaded (and promoted when asked) as they appear; staging, half-written
and broken directories are never served and change nothing."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import grpc
import pytest
from dragoman.server.app import App

from dragoman.translation.v1 import translation_service_pb2 as pb
from dragoman.translation.v1 import translation_service_pb2_grpc as tgrpc


def publish(source: Path, target: Path) -> None:
    """What `dragoman convert` does: write a hidden staging directory, then rename it."""
    staging = target.with_name(f".{target.name}.partial-{os.getpid()}")
    shutil.copytree(source, staging)
    staging.rename(target)


def versions(app: App, name: str = "general") -> list[tuple[str, int]]:
    return [(v.version, v.weight) for v in app.engine.registry.versions(name)]


def wait_for(condition: Callable[[], bool], seconds: float = 30.0) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.05)
    return False


def translate(app: App) -> str:
    with grpc.insecure_channel(f"127.0.0.1:{app.port}") as channel:
        request = pb.TranslateTextRequest(
            contents=["Hello."], source_language_code="en", target_language_code="qaa"
        )
        response = tgrpc.TranslationServiceStub(channel).TranslateText(request, timeout=30)
    return str(response.translations[0].model)


@pytest.mark.parametrize("promote", [False, True], ids=["wait-for-route", "promote"])
def test_new_versions_are_loaded_as_they_appear(
    server_factory: Any, demo_model_dir: Path, tmp_path: Path, promote: bool
) -> None:
    root = tmp_path / "models"
    publish(demo_model_dir, root / "general" / "2026-11-01")
    publish(demo_model_dir, root / "general" / "2026-11-20")  # the newest is served
    app = server_factory(
        models=[], models_dir=str(root),
        rollout={"poll_interval_s": 0.1, "promote_new_versions": promote},
    )  # fmt: skip
    assert versions(app) == [("2026-11-20", 100)]
    assert translate(app) == "general@2026-11-20"

    # Being written: a staging copy, and a copy that lacks config.json so far.
    staging = root / "general" / ".2026-12-01.partial-7"
    shutil.copytree(demo_model_dir, staging)
    half = root / "general" / "2026-12-02"
    shutil.copytree(demo_model_dir, half, ignore=shutil.ignore_patterns("config.json"))
    broken = root / "general" / "2026-12-03"  # finished, but not a working model
    shutil.copytree(demo_model_dir, broken)
    (broken / "model.bin").write_bytes(b"\0" * 4096)
    time.sleep(1.0)  # ten polls
    assert versions(app) == [("2026-11-20", 100)]
    assert translate(app) == "general@2026-11-20"

    publish(demo_model_dir, root / "general" / "2026-12-04")
    expected = [("2026-11-20", 0), ("2026-12-04", 100)] if promote else [
        ("2026-11-20", 100), ("2026-12-04", 0)]  # fmt: skip
    assert wait_for(lambda: versions(app) == expected), versions(app)
    assert translate(app) == ("general@2026-12-04" if promote else "general@2026-11-20")

    # The half-written copy completes: it is picked up once its files stop changing.
    shutil.copy(demo_model_dir / "config.json", half / "config.json")
    assert wait_for(lambda: "2026-12-02" in dict(versions(app))), versions(app)
    assert "2026-12-03" not in dict(versions(app))
    assert "2026-12-01" not in dict(versions(app))


def test_an_empty_models_dir_is_refused_at_start(server_factory: Any, tmp_path: Path) -> None:
    from dragoman.engine.errors import ModelLoadError

    (tmp_path / "general" / ".staging").mkdir(parents=True)
    with pytest.raises(ModelLoadError, match="holds no finished model"):
        server_factory(models=[], models_dir=str(tmp_path))
