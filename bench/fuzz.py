"""The project's own hypothesis fuzz tests at 1,000 examples each (the suite runs them at 100-150).

Runs tests/faults/test_fuzz_inbound.py (arbitrary mail through Maildir -> archive -> parse -> match ->
understand -> apply) and tests/understand/test_properties.py (cleaning, classifying, extracting never raise)
with RA_FUZZ_EXAMPLES set. Last line: fuzz_examples=N passed=N failed=N seconds=X
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGETS = ("tests/faults/test_fuzz_inbound.py", "tests/understand/test_properties.py")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--examples", type=int, default=1000)
    parser.add_argument("-k", default="", help="pytest -k expression (e.g. sqlite)")
    args = parser.parse_args()
    env = dict(os.environ, RA_FUZZ_EXAMPLES=str(args.examples))
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *TARGETS]
    if args.k:
        command += ["-k", args.k]
    started = time.perf_counter()
    run = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    tail = run.stdout.strip().splitlines()[-1] if run.stdout.strip() else ""
    if run.returncode not in (0, 1):
        print(run.stdout[-3000:] + run.stderr[-3000:], file=sys.stderr)
    elif run.returncode == 1:
        print(run.stdout[-6000:])
    passed = int(m.group(1)) if (m := re.search(r"(\d+) passed", tail)) else 0
    failed = int(m.group(1)) if (m := re.search(r"(\d+) (?:failed|error)", tail)) else 0
    print(tail)
    print(f"fuzz_examples={args.examples} passed={passed} failed={failed} seconds={seconds:.0f}")
    return 0 if run.returncode == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
