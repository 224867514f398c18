"""dragoman: a CTranslate2-backed gRPC translation server."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("dragoman")
except PackageNotFoundError:  # running from a source tree without an install
    __version__ = "0.0.0"
