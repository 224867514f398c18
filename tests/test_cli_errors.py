"""Every `dragoman` sub-command fails with one line that says what to fix, and a
non-zero exit status: no traceback, whatever the failure (missing files, unreachable
servers or hubs, bad settings, unwritable outputs)."""

from __future__ import annotations

import json
import logging
import signal
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from dragoman.cli import main

TOKEN = "cli-errors-admin-token-0123456789abcdef"


@dataclass(frozen=True)
class Failure:
    """A command line and the line it must end with."""

    argv: list[str]
    says: str
    env: tuple[tuple[str, str], ...] = ()


def _hf_dir(tmp: Path) -> Path:
    """A directory that looks like a Hugging Face model (config.json only)."""
    folder = tmp / "hf-model"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"model_type": "m2m_100"}))
    return folder


# argv may name {tmp} (a fresh directory), {file} (an existing file), {model} (an HF-like
# directory) and {existing} (an existing output directory).
FAILURES: dict[str, Failure] = {
    "convert-no-such-dir": Failure(
        ["convert", "/nonexistent", "--output", "{tmp}/out"], "no such directory '/nonexistent'"
    ),
    "convert-hub-offline": Failure(
        ["convert", "facebook/nllb-200-distilled-600M", "--output", "{tmp}/out"],
        "are you offline?",
        env=(("HF_HUB_OFFLINE", "1"),),
    ),
    "convert-dir-without-config": Failure(
        ["convert", "{tmp}", "--output", "{tmp}/out"], "has no config.json"
    ),
    "convert-a-file": Failure(["convert", "{file}", "--output", "{tmp}/out"], "is a file"),
    "convert-bad-adapter": Failure(
        ["convert", "{model}", "--adapter", "{tmp}", "--output", "{tmp}/out"],
        "is not a LoRA adapter directory",
    ),
    "convert-output-exists": Failure(
        ["convert", "{model}", "--output", "{existing}"], "already exists; pass --force"
    ),
    "convert-output-unwritable": Failure(
        ["convert", "{model}", "--output", "{file}/out"], "cannot create"
    ),
    "serve-no-config-file": Failure(
        ["serve", "--config", "/nonexistent.yaml"], "config file '/nonexistent.yaml' does not exist"
    ),
    "serve-short-admin-token": Failure(
        ["serve", "--port", "0", "--no-http"],
        "auth.admin_token: the admin token has 5 characters; use at least 32",
        env=(("DRAGOMAN_AUTH__ADMIN_TOKEN", "short"),),
    ),
    "serve-bad-setting": Failure(["serve", "--workers", "0"], "workers: Input should be"),
    "serve-no-such-model": Failure(
        ["serve", "--model", "/nonexistent", "--port", "0", "--no-http", "--log-level", "ERROR"],
        "cannot load the models",
    ),
    "translate-no-target": Failure(["translate", "Hello"], "--to CODE is required"),
    "translate-no-server": Failure(
        ["translate", "--to", "fr", "--address", "127.0.0.1:1", "--timeout", "5", "Hello"],
        "UNAVAILABLE",
    ),
    "translate-file-missing": Failure(
        ["translate-file", "/nonexistent", "--to", "fr"], "/nonexistent does not exist"
    ),
    "admin-no-token": Failure(["admin", "keys", "list"], "no admin token"),
    "admin-no-server": Failure(
        ["admin", "--address", "127.0.0.1:1", "--timeout", "5", "keys", "list"],
        "is the server running at 127.0.0.1:1?",
        env=(("DRAGOMAN_ADMIN_TOKEN", TOKEN),),
    ),
    "demo-model-unwritable": Failure(["demo-model", "--output", "{file}/model"], "cannot write"),
    "demo-model-exists": Failure(["demo-model", "--output", "{existing}"], "already exists"),
    "finetune-evaluate-missing-test": Failure(
        ["finetune", "evaluate", "{model}", "--test", "/nonexistent.tsv"], "/nonexistent.tsv"
    ),
    "finetune-train-incomplete": Failure(
        ["finetune", "train", "--model", "{model}"], "missing required setting"
    ),
}


@pytest.fixture()
def process_state() -> Iterator[None]:
    """`dragoman serve` configures logging and signal handlers: put them back after."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    signals = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for number, handler in signals.items():
        signal.signal(number, handler)


@pytest.mark.usefixtures("process_state")
@pytest.mark.parametrize("failure", FAILURES.values(), ids=FAILURES.keys())
def test_cli_failure_is_one_line(
    failure: Failure,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("DRAGOMAN_ADMIN_TOKEN", "DRAGOMAN_AUTH__ADMIN_TOKEN", "DRAGOMAN_ADDRESS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in failure.env:
        monkeypatch.setenv(name, value)
    work = tmp_path / "work"
    work.mkdir()
    a_file = tmp_path / "a-file.txt"
    a_file.write_text("not a model\n")
    existing = tmp_path / "existing"
    existing.mkdir()
    names = {"tmp": work, "file": a_file, "model": _hf_dir(tmp_path), "existing": existing}
    argv = [arg.format(**names) for arg in failure.argv]
    status = main(argv)
    out, err = capsys.readouterr()
    assert status != 0, (out, err)
    assert "Traceback" not in out + err
    lines = [line for line in err.splitlines() if line.strip() and not line.startswith("{")]
    command = argv[0]
    assert lines and lines[-1].startswith(f"dragoman {command}: "), err
    assert failure.says in lines[-1]


def test_an_unexpected_error_is_one_line_too(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import dragoman.clients.cli as translate_cli

    def broken(args: object) -> int:
        raise RuntimeError("the disk is on fire\nand more")

    monkeypatch.setattr(translate_cli, "run", broken)
    monkeypatch.delenv("DRAGOMAN_DEBUG", raising=False)
    assert main(["translate", "--to", "fr", "x"]) == 1
    err = capsys.readouterr().err
    assert err.strip() == (
        "dragoman translate: RuntimeError: the disk is on fire (DRAGOMAN_DEBUG=1 shows where)"
    )


def test_debug_shows_the_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    import dragoman.clients.cli as translate_cli

    def broken(args: object) -> int:
        raise RuntimeError("boom")

    monkeypatch.setattr(translate_cli, "run", broken)
    monkeypatch.setenv("DRAGOMAN_DEBUG", "1")
    with pytest.raises(RuntimeError, match="boom"):
        main(["translate", "--to", "fr", "x"])


def test_every_command_is_covered() -> None:
    from dragoman.cli import COMMANDS

    covered = {failure.argv[0] for failure in FAILURES.values()}
    assert covered == set(COMMANDS)
