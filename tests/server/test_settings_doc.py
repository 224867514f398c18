"""The README's configuration table is the one the settings classes generate."""

from __future__ import annotations

from pathlib import Path

from dragoman.server import settings_doc
from dragoman.server.settings import Settings

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_holds_the_current_settings_table() -> None:
    assert settings_doc.table() in README.read_text(encoding="utf-8"), (
        "README.md's settings table is stale: run "
        "`.venv/bin/python -m dragoman.server.settings_doc --write README.md`"
    )


def test_every_setting_is_described() -> None:
    rows = settings_doc.rows()
    undocumented = [key for key, _, _, meaning in rows if not meaning]
    assert undocumented == []
    keys = {key for key, *_ in rows}
    assert {"port", "limits.max_contents", "batching.enabled", "models[].path"} <= keys
    assert set(Settings.model_fields) <= {key.split(".")[0].split("[")[0] for key in keys}


def test_rows_name_the_environment_variables_settings_read() -> None:
    by_key = {key: (env, default) for key, env, default, _ in settings_doc.rows()}
    assert by_key["limits.max_contents"] == ("`DRAGOMAN_LIMITS__MAX_CONTENTS`", "1024")
    assert by_key["port"] == ("`DRAGOMAN_PORT`", "50051")
    assert by_key["models[].path"][1] == "required"


def test_write_updates_a_stale_table(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{settings_doc.BEGIN}\nold\n{settings_doc.END}\nrest\n")
    assert settings_doc.write(readme)
    assert readme.read_text() == f"intro\n{settings_doc.table()}\nrest\n"
    assert not settings_doc.write(readme)
