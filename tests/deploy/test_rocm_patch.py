"""ct2_rocm.patch: small, documented, and it applies to the pinned CTranslate2 tag.

Applying it needs CTranslate2's source, which no test downloads: set CT2_GIT_DIR to a
clone or mirror of https://github.com/OpenNMT/CTranslate2 (with its tags) to run that
check; deploy/rocm/check_ct2_patch.sh is the same check by hand.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PATCH = REPO / "ct2_rocm.patch"


def pinned_tag() -> str:
    text = (REPO / "Dockerfile.rocm").read_text(encoding="utf-8")
    match = re.search(r"^ARG CT2_VERSION=(\S+)$", text, re.MULTILINE)
    assert match, "Dockerfile.rocm pins no CT2_VERSION"
    return f"v{match.group(1)}"


def test_patch_is_small_and_every_hunk_is_documented() -> None:
    text = PATCH.read_text(encoding="utf-8")
    header, _, body = text.partition("diff --git ")
    files = re.findall(r"^\+\+\+ b/(\S+)$", body, re.MULTILINE)
    hunks = re.findall(r"^@@ ", body, re.MULTILINE)
    documented = re.findall(r"^Hunk (\d+), (\S+),", header, re.MULTILINE)
    assert files == ["src/cuda/allocator.cc"]
    assert [int(n) for n, _ in documented] == list(range(1, len(hunks) + 1))
    assert {path for _, path in documented} <= set(files)
    changed = [line for line in body.splitlines() if line[:1] in "+-" and line[:3] not in "+++---"]
    assert len(changed) <= 40, "keep the patch small"
    for issue in ("#2012", "#2090"):
        assert issue in header


def test_patch_only_changes_the_hip_default() -> None:
    """CUDA builds keep upstream's choice; HIP builds default to cub_caching."""
    body = PATCH.read_text(encoding="utf-8").partition("diff --git ")[2].splitlines()
    after = "\n".join(line[1:] for line in body if line[:1] in " +" and line[:3] != "+++")
    assert "#ifdef CT2_USE_HIP" in after
    hip_branch, _, cuda_branch = after.partition("#else")
    assert 'default_allocator = "cub_caching"' in hip_branch
    assert '? "cuda_malloc_async"' in cuda_branch
    # The environment variable still wins over the default.
    assert re.search(r'read_string_from_env\("CT2_CUDA_ALLOCATOR",\s+default_allocator\)', after)


def test_patch_applies_to_the_pinned_tag() -> None:
    git_dir = os.environ.get("CT2_GIT_DIR", "")
    if not git_dir:
        pytest.skip("set CT2_GIT_DIR to a CTranslate2 clone to check the patch applies")
    tag = os.environ.get("CT2_TAG", pinned_tag())
    result = subprocess.run(
        ["bash", str(REPO / "deploy" / "rocm" / "check_ct2_patch.sh"), git_dir, tag],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"applies cleanly to CTranslate2 {tag}" in result.stdout
