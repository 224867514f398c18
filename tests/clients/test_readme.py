"""The README's Python client example runs as written (against the demo model)."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"


def test_python_example_runs(live_server: str, served_model) -> None:
    if served_model.name != "demo":
        pytest.skip("the README example uses the demo model's languages (not built yet)")
    section = README.read_text().split("### From Python", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S)
    assert code is not None
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(code.group(1).replace("127.0.0.1:50051", live_server), {})
    lines = out.getvalue().splitlines()
    assert lines[-1] == "eng_Latn"
    assert "<p>" in lines[-2] and "Acme" in lines[-2]
