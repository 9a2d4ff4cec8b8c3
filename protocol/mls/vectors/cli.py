"""Command-line entry of the vector runner: reads files, prints one report line per file.

This and ``__main__`` are the only modules under protocol/ that do I/O (reading the vector
files named on the command line); the handlers they call are pure.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from protocol.mls.vectors import FileResult, run_cases


def run_file(path: Path) -> FileResult:
    with path.open(encoding="utf-8") as handle:
        cases = json.load(handle)
    return run_cases(path.stem, cases)


def main(argv: list[str] | None = None, prog: str = "python -m protocol.mls.vectors") -> int:
    parser = argparse.ArgumentParser(prog=prog)
    parser.add_argument("files", nargs="+", type=Path, help="vector files (JSON)")
    parser.add_argument("-v", "--verbose", action="store_true", help="list each failure")
    args = parser.parse_args(argv)
    ok = True
    for path in args.files:
        result = run_file(path)
        print(result.line())
        if args.verbose:
            for failure in result.failures:
                print(f"  {failure}")
        ok = ok and result.ok
    return 0 if ok else 1
