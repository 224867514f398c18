"""A long property-based fuzzing run of TranslateText and StreamTranslateText.

    .venv/bin/python bench/fuzz.py [--examples 2000] [--seed N]

Runs tests/server/test_fuzz.py (the same strategies and properties as CI: never UNKNOWN
or INTERNAL, never past the deadline, SERVING with the breaker closed at the end) with
many more examples and a random seed instead of CI's fixed one, and prints hypothesis's
statistics. A failure prints the smallest input that breaks the property and the blob
to reproduce it (`@reproduce_failure`). Exit status: pytest's.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=2000, help="examples per property")
    parser.add_argument("--seed", type=int, help="hypothesis seed (default: random)")
    args = parser.parse_args()
    env = {**os.environ, "DRAGOMAN_FUZZ_EXAMPLES": str(args.examples), "DRAGOMAN_FUZZ_RANDOM": "1"}
    command = [
        sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:randomly", "--timeout", "0",
        "--hypothesis-show-statistics", "tests/server/test_fuzz.py",
    ]  # fmt: skip
    if args.seed is not None:
        command += ["--hypothesis-seed", str(args.seed)]
    return subprocess.run(command, cwd=REPO, env=env, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
