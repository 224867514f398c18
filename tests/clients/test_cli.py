"""`dragoman translate` against a live server."""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys

import pytest
from dragoman.clients import TranslationClient
from dragoman.clients import cli as translate_cli


def _run(argv: list[str], monkeypatch: pytest.MonkeyPatch, stdin: str = "") -> int:
    for name in ("DRAGOMAN_ADDRESS", "DRAGOMAN_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    parser = argparse.ArgumentParser()
    translate_cli.configure(parser)
    return translate_cli.run(parser.parse_args(argv))


@pytest.fixture(scope="module")
def expected(live_server: str, served_model) -> dict[str, str]:
    texts = ["Hello world.", "The cat eats."]
    with TranslationClient(live_server) as client:
        results = client.translate(texts, to=served_model.target, source=served_model.source)
    return {t: r.text for t, r in zip(texts, results, strict=True)}


def test_translates_arguments(live_server, served_model, expected, monkeypatch, capsys) -> None:
    argv = ["--address", live_server, "--to", served_model.target, "--from", "en", *expected]
    assert _run(argv, monkeypatch) == 0
    assert capsys.readouterr().out.splitlines() == list(expected.values())


def test_translates_stdin_lines_keeping_blank_ones(
    live_server, served_model, expected, monkeypatch, capsys
) -> None:
    monkeypatch.setattr(translate_cli, "STDIN_BATCH", 2)  # several requests
    stdin = "Hello world.\n\nThe cat eats.\nHello world.\n"
    argv = ["--address", live_server, "--to", served_model.target, "--from", "eng_Latn", "--json"]
    assert _run(argv, monkeypatch, stdin) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["source"] for r in rows] == ["Hello world.", "", "The cat eats.", "Hello world."]
    assert [r["translation"] for r in rows] == [
        expected["Hello world."],
        "",
        expected["The cat eats."],
        expected["Hello world."],
    ]
    assert rows[0]["model"] == served_model.name


def test_lists_models_and_languages(live_server, served_model, monkeypatch, capsys) -> None:
    assert _run(["--address", live_server, "--list-models"], monkeypatch) == 0
    assert capsys.readouterr().out.startswith(f"{served_model.name} (default)\t")
    assert _run(["--address", live_server, "--list-languages"], monkeypatch) == 0
    codes = [line.split("\t")[0] for line in capsys.readouterr().out.splitlines()]
    assert served_model.target in codes


def test_errors_and_usage(live_server, monkeypatch, capsys) -> None:
    assert _run(["--address", live_server, "--to", "xx_Nope", "Hi."], monkeypatch) == 1
    assert "INVALID_ARGUMENT" in capsys.readouterr().err
    assert _run(["--address", live_server, "Hi."], monkeypatch) == 2
    assert "--to" in capsys.readouterr().err
    assert _run(["--address", "nohost", "--address", "x:1", "--to", "fr", "Hi"], monkeypatch) == 2


def test_dragoman_translate_command(live_server, served_model, expected) -> None:
    """The installed `dragoman translate` sub-command, DRAGOMAN_ADDRESS from the environment."""
    env = {**os.environ, "DRAGOMAN_ADDRESS": live_server}
    done = subprocess.run(
        [sys.executable, "-m", "dragoman.cli", "translate", "--to", served_model.target,
         "--from", served_model.source, "Hello world."],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [expected["Hello world."]]


def test_glossary_terms_and_kept_terms(live_server, served_model, monkeypatch, capsys) -> None:
    argv = ["--address", live_server, "--to", served_model.target, "--term", "cat=CHAT",
            "--keep", "Dragoman", "The cat likes Dragoman."]  # fmt: skip
    assert _run(argv, monkeypatch) == 0
    out = capsys.readouterr().out
    assert "CHAT" in out and "Dragoman" in out
    assert _run([*argv[:4], "--term", "cat", "Hi."], monkeypatch) == 2
    assert "SOURCE=TARGET" in capsys.readouterr().err
