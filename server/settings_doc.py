"""The README's configuration table, generated from the settings classes themselves.

    python -m dragoman.server.settings_doc            # print the table
    python -m dragoman.server.settings_doc --write README.md

Every setting, its environment variable and its default come from the pydantic models;
the descriptions come from their docstrings' `Attributes:` sections. A test checks that
README.md holds the current table, so a new setting cannot go undocumented.
"""

from __future__ import annotations

import argparse
import inspect
import re
import sys
import typing
from pathlib import Path
from typing import Any

from dragoman.server.settings import Settings
from pydantic import BaseModel, SecretStr
from pydantic_core import PydanticUndefined

BEGIN = "<!-- settings-table:begin (python -m dragoman.server.settings_doc --write README.md) -->"
END = "<!-- settings-table:end -->"
ENV_PREFIX = "DRAGOMAN_"


def attribute_docs(cls: type) -> dict[str, str]:
    """`name -> description` from a Google-style `Attributes:` docstring section."""
    doc = inspect.getdoc(cls) or ""
    section = doc.partition("Attributes:")[2]
    docs: dict[str, str] = {}
    name = ""
    for line in section.splitlines():
        match = re.match(r"^    (\w+): (.*)$", line)
        if match:
            name, text = match.groups()
            docs[name] = text.strip()
        elif line.startswith("        ") and name:
            docs[name] += " " + line.strip()
        elif line.strip() and not line.startswith(" "):
            break
    return docs


def _nested_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def _list_model(annotation: Any) -> type[BaseModel] | None:
    if typing.get_origin(annotation) is list:
        (item,) = typing.get_args(annotation)
        return _nested_model(item)
    return None


def _show_default(value: Any) -> str:
    if value is PydanticUndefined:
        return "required"
    if value is None or isinstance(value, SecretStr):
        return "unset"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, tuple):
        return ",".join(str(v) for v in value)
    if value == "":
        return '""'
    return f"{value:,}" if isinstance(value, int) and value >= 100_000 else str(value)


def rows(model: type[BaseModel] = Settings, prefix: str = "") -> list[tuple[str, str, str, str]]:
    """(setting, environment variable, default, description) for every leaf setting."""
    docs = attribute_docs(model)
    out = []
    for name, field in model.model_fields.items():
        key = f"{prefix}{name}"
        env = f"`{ENV_PREFIX}{key.replace('.', '__').upper()}`"
        if "[]" in key:
            env = "(inside `DRAGOMAN_MODELS`)"
        nested, items = _nested_model(field.annotation), _list_model(field.annotation)
        if nested is not None:
            out += rows(nested, f"{key}.")
            continue
        description = docs.get(name, "").replace("|", "\\|")
        if items is not None:
            out.append((key, f"{env} (a JSON list)", "the demo model", description))
            out += rows(items, f"{key}[].")
            continue
        default = field.get_default(call_default_factory=True)
        out.append((key, env, _show_default(default), description))
    return out


def table() -> str:
    """The Markdown table, between its markers."""
    lines = [BEGIN, "| Setting (YAML key) | Environment | Default | Meaning |", "|---|---|---|---|"]
    lines += [f"| `{k}` | {e} | {d} | {m} |" for k, e, d, m in rows()]
    return "\n".join([*lines, END])


def write(readme: Path) -> bool:
    """Replaces the table in `readme`; returns whether anything changed."""
    text = readme.read_text(encoding="utf-8")
    start, end = text.index(BEGIN), text.index(END) + len(END)
    updated = text[:start] + table() + text[end:]
    if updated != text:
        readme.write_text(updated, encoding="utf-8")
    return updated != text


def main(argv: list[str] | None = None) -> int:
    """Prints the table, or writes it into a README."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", type=Path, metavar="README", help="update this file")
    args = parser.parse_args(argv)
    if args.write is None:
        print(table())
    elif write(args.write):
        print(f"updated the settings table in {args.write}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
