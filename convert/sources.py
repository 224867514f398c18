"""Where a model to convert comes from, checked before anything heavy loads.

`MODEL_OR_DIR` is a local Hugging Face directory or a hub id. A path that does not
exist, a directory that holds no model, an adapter that is not one and a hub id that
cannot be fetched each become one `ConversionError` line that says what to fix, instead
of the loaders' tracebacks.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path


class SourceError(Exception):
    """A model or adapter that cannot be used; the message says what to do."""


#: What the hub accepts as a repository id: `name` or `owner/name`.
_HUB_ID = re.compile(r"^(?:[A-Za-z0-9][\w.-]{0,95}/)?[A-Za-z0-9][\w.-]{0,95}$")


def is_hub_id(name: str) -> bool:
    """Whether `name` could be a hub repository id (`facebook/nllb-200-distilled-600M`)."""
    return bool(_HUB_ID.match(name)) and ".." not in name and "--" not in name


def check_sources(model: str, adapters: Sequence[str] = ()) -> None:
    """Fails fast on a local model or adapter that cannot be loaded.

    Raises:
        SourceError: The model path does not exist and is no hub id, or is not a model
            directory; an adapter is not a LoRA adapter directory.
    """
    path = Path(model).expanduser()
    if path.is_file():
        raise SourceError(
            f"{model!r} is a file: pass the directory that holds config.json and the weights"
        )
    if path.is_dir() and not (path / "config.json").is_file():
        raise SourceError(
            f"{model!r} has no config.json: pass the directory of a Hugging Face seq2seq model "
            "(the one `save_pretrained` wrote)"
        )
    if not path.exists() and not is_hub_id(model):
        raise SourceError(
            f"no such directory {model!r}, and not a hub id (owner/name) that can be fetched: "
            "check the path"
        )
    for adapter in adapters:
        if not (Path(adapter).expanduser() / "adapter_config.json").is_file():
            raise SourceError(
                f"--adapter {adapter!r} is not a LoRA adapter directory (no "
                "adapter_config.json): pass the directory `dragoman finetune train` wrote"
            )


def load_error(model: str, error: BaseException) -> SourceError:
    """The one-line error for a model whose loading failed with `error`."""
    reason = (str(error).strip().splitlines() or [type(error).__name__])[0][:160]
    if Path(model).expanduser().is_dir():
        return SourceError(f"cannot load the model in {model!r}: {reason}")
    return SourceError(
        f"no such directory {model!r}, and not a hub id that can be fetched: are you offline? "
        f"(pass a local directory, or fetch it once with network access; the hub: {reason})"
    )
