"""Hostile mail through the real parse + understand path, one child process per message.

The corpus (bench/hostile_corpus.py) is generated at run time. Each message runs in a forked child, as the
inbound processing would run it (agent.mail.parse.parse, then agent.pipeline.understand.understand with a
thread context), so its wall time and peak RSS are its own; a child that overruns --timeout is killed and
counted at the timeout. Goal (issue 13): max < 2000 ms and RSS < 300 MB per message.
Last line: hostile_max_ms=X hostile_p99_ms=X rss_max_mb=X n=N
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import resource
import sys
import time
from multiprocessing.connection import Connection
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from agent.mail.parse import DEFAULT_MAX_ATTACHMENT_BYTES, ParseError, parse  # noqa: E402
from agent.pipeline.stage_data import ThreadContext  # noqa: E402
from agent.pipeline.understand import UnderstandRules, load_understand_rules, understand  # noqa: E402
from bench.hostile_corpus import cases  # noqa: E402

OUR_LETTER = (
    "Under the California Public Records Act, I request copies of the police department's use of force "
    "policy and all records of complaints received in 2024. Please reply to this address."
)


def _run_one(raw: bytes, earlier: tuple[str, ...], rules: UnderstandRules, conn: Connection) -> None:
    """Child: parse and understand one message; send back wall ms, peak RSS (MB) and what came of it."""
    started = time.perf_counter()
    outcome = "ok"
    try:
        parsed = parse(raw, max_attachment_bytes=DEFAULT_MAX_ATTACHMENT_BYTES)
        parse_ms = (time.perf_counter() - started) * 1000
        context = ThreadContext(earlier_texts=earlier, our_texts=(OUR_LETTER,), request_reference="RA-2025-0001")
        result = understand(parsed, context, rules)
        outcome = f"parse={parse_ms:.0f}ms {result.label} numbers={len(result.tracking_numbers)} cleaned={len(result.cleaned_text)}"
        if "error.understand" in result.rules:
            outcome = "understand-error"
    except ParseError as exc:
        outcome = f"quarantined: {str(exc)[:60]}"
    elapsed = (time.perf_counter() - started) * 1000
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    conn.send((elapsed, rss_mb, outcome))
    conn.close()


def measure(raw: bytes, earlier: tuple[str, ...], rules: UnderstandRules, timeout: float) -> tuple[float, float, str]:
    ctx = mp.get_context("fork")  # the child inherits the loaded rules, as a daemon worker would
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_run_one, args=(raw, earlier, rules, child))
    proc.start()
    child.close()
    if parent.poll(timeout):
        elapsed, rss_mb, outcome = parent.recv()
        proc.join()
        return elapsed, rss_mb, outcome
    proc.kill()
    proc.join()
    return timeout * 1000, float("nan"), "TIMEOUT (killed)"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every hostile size by this")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds before a message's child is killed")
    parser.add_argument("--only", default="", help="run only cases whose name contains this")
    args = parser.parse_args()
    rules = load_understand_rules(ROOT / "rules")
    base_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"# parent rss after loading rules: {base_mb:.0f} MB (each child starts from it)", flush=True)
    times: list[float] = []
    rss: list[float] = []
    for name, raw, earlier in cases(args.scale):
        if args.only and args.only not in name:
            continue
        elapsed, rss_mb, outcome = measure(raw, earlier, rules, args.timeout)
        times.append(elapsed)
        rss.append(rss_mb if rss_mb == rss_mb else float("inf"))
        print(f"{name:28s} {len(raw) / 1024:9.0f} KB {elapsed:9.1f} ms {rss_mb:7.0f} MB  {outcome}", flush=True)
    if not times:
        print("hostile: no case matched --only", file=sys.stderr)
        return 2
    print(
        f"hostile_max_ms={max(times):.1f} hostile_p99_ms={percentile(times, 0.99):.1f} "
        f"rss_max_mb={max(rss):.0f} n={len(times)}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
