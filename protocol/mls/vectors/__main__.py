"""``python -m protocol.mls.vectors FILE...``: run vector files, one report line per file."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from protocol.mls.vectors import FileResult, run_cases


def run_file(path: Path) -> FileResult:
    with path.open(encoding="utf-8") as handle:
        cases = json.load(handle)
    return run_cases(path.stem, cases)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m protocol.mls.vectors")
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
        ok = ok and result.failed == 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
