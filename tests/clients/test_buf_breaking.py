"""`.ci/buf-breaking` catches API breaks: on main (vs HEAD~1) and on a branch (vs main)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BUF = REPO / ".tools" / "node_modules" / ".bin" / "buf"
PROTO = "proto/dragoman/translation/v1/translation_service.proto"


def _git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}  # fmt: skip
    done = subprocess.run(["git", *args], cwd=repo, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def _check(repo: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BUF_")}
    return subprocess.run(
        ["bash", str(repo / ".ci" / "buf-breaking")], cwd=repo, env={**env, "BUF": str(BUF)},
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def _edit(repo: Path, old: str, new: str) -> None:
    path = repo / PROTO
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


@pytest.fixture
def scratch(tmp_path: Path) -> Path:
    """A git repository on branch main holding a copy of proto/ and the check."""
    if not BUF.is_file():
        pytest.fail("buf is not installed: run `make system-deps`")
    repo = tmp_path / "repo"
    shutil.copytree(REPO / "proto", repo / "proto")
    (repo / ".ci").mkdir()
    shutil.copy(REPO / ".ci" / "buf-breaking", repo / ".ci" / "buf-breaking")
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "v1")
    return repo


def test_repository_proto_does_not_break_the_api() -> None:
    done = _check(REPO)
    assert done.returncode == 0, done.stdout + done.stderr


def test_first_commit_is_skipped(scratch: Path) -> None:
    done = _check(scratch)
    assert done.returncode == 0 and "skipped" in done.stderr


def test_on_main_a_changed_field_type_fails_and_an_added_field_passes(scratch: Path) -> None:
    _edit(scratch, "int32 beam_size = 2;", "int32 beam_size = 2;\n  bool extra = 99;")
    _git(scratch, "commit", "-q", "-am", "add a field")
    assert _check(scratch).returncode == 0  # additions are fine
    _edit(scratch, "int32 beam_size = 2;", "int64 beam_size = 2;")
    _git(scratch, "commit", "-q", "-am", "break it")
    done = _check(scratch)
    assert done.returncode != 0
    assert 'name "beam_size"' in done.stdout and "int64" in done.stdout


def test_on_a_branch_the_break_is_measured_against_main(scratch: Path) -> None:
    _git(scratch, "checkout", "-q", "-b", "feature")
    _edit(scratch, "  string model = 4;\n", "")
    _git(scratch, "commit", "-q", "-am", "drop TranslateTextRequest.model")
    _edit(scratch, "int32 beam_size = 2;", "int32 beam_size = 2;\n  bool extra = 99;")
    _git(scratch, "commit", "-q", "-am", "harmless follow-up")  # HEAD~1 would miss the break
    done = _check(scratch)
    assert done.returncode != 0
    assert "model" in done.stdout and "TranslateTextRequest" in done.stdout
