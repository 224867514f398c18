"""What the images install, rebuilt without Docker: the wheel stage's build context gives
a complete dragoman wheel, and `dragoman serve` runs with torch absent, as in the images.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BLOCK_TRAINING_STACK = '''
import sys

class _Absent:
    """Makes the training stack unimportable, as in the serving images."""

    BLOCKED = ("torch", "transformers", "peft")

    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in self.BLOCKED:
            raise ImportError(f"{name} is not installed in the serving image")
        return None

sys.meta_path.insert(0, _Absent())
'''


def wheel_stage_sources(dockerfile: str) -> list[str]:
    """The paths the `wheel` stage copies from the build context."""
    sources: list[str] = []
    in_stage = False
    for line in (REPO / dockerfile).read_text(encoding="utf-8").splitlines():
        if line.startswith("FROM "):
            in_stage = line.rstrip().endswith(" AS wheel")
        elif in_stage and line.startswith("COPY "):
            sources += [w for w in line.split()[1:-1] if not w.startswith("--")]
    return sources


@pytest.mark.parametrize("dockerfile", ["Dockerfile.cuda", "Dockerfile.rocm"])
def test_wheel_stage_builds_a_complete_wheel(dockerfile: str, tmp_path: Path) -> None:
    context = tmp_path / "src"
    context.mkdir()
    for source in wheel_stage_sources(dockerfile):
        path = REPO / source
        if path.is_dir():
            shutil.copytree(path, context / source, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(path, context / source)
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "--wheel-dir", str(tmp_path / "wheels"), str(context)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    (wheel,) = (tmp_path / "wheels").glob("dragoman-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    for package in pyproject["tool"]["setuptools"]["packages"]:
        init = package.replace(".", "/") + "/__init__.py"
        assert init in names, f"{package} is missing from the image's wheel"
    demo = REPO / "dragoman" / "models" / "demo"
    shipped = {f"dragoman/models/demo/{p.name}" for p in demo.glob("*") if p.is_file()}
    assert shipped <= names, "the demo model must ship inside the wheel"
    metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
    requires = [
        line.split(":", 1)[1].strip()
        for line in zipfile.ZipFile(wheel).read(metadata).decode().splitlines()
        if line.startswith("Requires-Dist:") and "extra ==" not in line
    ]
    assert not [r for r in requires if r.split("=")[0].split(">")[0].strip() == "torch"]
    assert any(r.startswith("ctranslate2") for r in requires)


def test_serving_needs_no_training_stack(tiny_nllb_dir: Path, tmp_path: Path) -> None:
    """Load, warm up and translate with torch, transformers and peft unimportable."""
    (tmp_path / "sitecustomize.py").write_text(BLOCK_TRAINING_STACK, encoding="utf-8")
    script = "import torch\nraise SystemExit('torch should be blocked')\n"
    blocked = subprocess.run(
        [sys.executable, "-c", script], env={"PYTHONPATH": str(tmp_path)},
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert "not installed in the serving image" in blocked.stderr
    serve = (
        "from dragoman.server.app import build_app\n"
        "from dragoman.server.settings import Settings\n"
        f"models = [{{'name': 'nllb', 'path': {str(tiny_nllb_dir)!r}, 'device': 'cpu',"
        " 'intra_threads': 1}]\n"
        "app = build_app(Settings(host='127.0.0.1', port=0, models=models, workers=4,"
        " log_format='text', http={'enabled': False}))\n"
        "app.start(); app.load()\n"
        "import grpc\n"
        "from dragoman.translation.v1 import translation_service_pb2 as pb\n"
        "from dragoman.translation.v1 import translation_service_pb2_grpc as pb_grpc\n"
        "with grpc.insecure_channel(f'127.0.0.1:{app.port}') as channel:\n"
        "    stub = pb_grpc.TranslationServiceStub(channel)\n"
        "    reply = stub.TranslateText(pb.TranslateTextRequest(contents=['the cat'],"
        " target_language_code='fr'), timeout=60)\n"
        "app.stop(grace=1.0)\n"
        "import sys\n"
        "assert not {'torch', 'transformers', 'peft'} & set(sys.modules)\n"
        "print('served', reply.translations[0].model)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", serve], env={"PYTHONPATH": str(tmp_path)},
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert "served nllb" in result.stdout
