"""The README's HTTP examples run verbatim against a live server with the demo model: every
curl block (its documented JSON output compared), and the deepl library example."""

from __future__ import annotations

import contextlib
import io
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[3] / "README.md"
DOCUMENTED_URL = "http://127.0.0.1:8080"


def curl_examples() -> list[tuple[str, str | None]]:
    """(shell script, its documented JSON output or None) for each curl block."""
    text = README.read_text(encoding="utf-8")
    blocks = re.findall(r"```sh\n(.*?)```\s*(?:```json\n(.*?)```)?", text, re.S)
    return [
        (script, output or None)
        for script, output in blocks
        if re.search(r"(^|\s)curl ", script) and "grpcurl" not in script
    ]


def test_readme_curl_examples_run_verbatim(base_url: str) -> None:
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed")
    examples = curl_examples()
    assert len(examples) >= 8, "README.md lost its curl examples"
    for script, documented in examples:
        assert DOCUMENTED_URL in script, script
        local = script.replace(DOCUMENTED_URL, base_url)
        result = subprocess.run(["bash", "-c", local], capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, f"{script}\n{result.stderr}"
        if documented is not None:
            assert json.loads(result.stdout) == json.loads(documented), script


def test_readme_deepl_example_runs(base_url: str) -> None:
    section = README.read_text(encoding="utf-8").split("### DeepL-compatible API", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S)
    assert code is not None
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(code.group(1).replace(DOCUMENTED_URL, base_url), {})
    assert out.getvalue().strip() == "Sututur si mupk."
