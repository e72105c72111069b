"""Time the understanding stage on real and fixture replies; the last line is the classifier's p50/p99.

Per-call times are CPU time of this thread (time.thread_time), so a busy machine (other test suites on the
same two cores) does not count against us; wall-clock figures are printed on the line before for comparison.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

from agent.mail.parse import parse
from agent.pipeline.classify import Features, classify, prepare_text
from agent.pipeline.clean import clean
from agent.pipeline.evaluation import parsed_from_row
from agent.pipeline.stage_data import ParsedMessage, ThreadContext
from agent.pipeline.understand import load_understand_rules, understand

ROOT = Path(__file__).resolve().parents[1]
# The project's shared/ folder sits beside the repository.
DEV = ROOT.parent / "shared" / "corpus" / "dev.jsonl"


def corpus(dev: Path) -> list[ParsedMessage]:
    messages = [parse(p.read_bytes()) for p in sorted((ROOT / "tests/understand/fixtures/mail").glob("*.eml"))]
    if dev.is_file():
        messages += [parsed_from_row(json.loads(line)) for line in dev.read_text().splitlines() if line.strip()]
    return messages


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=20, help="passes over the corpus")
    parser.add_argument("--dev", type=Path, default=DEV)
    args = parser.parse_args()
    started = time.perf_counter()
    rules = load_understand_rules(ROOT / "rules")
    load_ms = (time.perf_counter() - started) * 1000
    messages = corpus(args.dev)
    context = ThreadContext()
    # Features are what the classifier sees after cleaning; build them once, then time classify alone.
    features = []
    for msg in messages:
        cleaned = clean(msg.text, context, rules.clean)
        text = prepare_text(msg.subject, cleaned.text or cleaned.unquoted, msg.attachment_text)
        features.append(Features(text=text, kind=msg.kind, attachments=msg.attachments))
    classify_ms: list[float] = []
    classify_wall: list[float] = []
    understand_ms: list[float] = []
    for _ in range(args.rounds):
        for feature in features:
            w0, t0 = time.perf_counter(), time.thread_time()
            classify(feature, rules.classify)
            classify_ms.append((time.thread_time() - t0) * 1000)
            classify_wall.append((time.perf_counter() - w0) * 1000)
        for msg in messages:
            t0 = time.thread_time()
            understand(msg, context, rules)
            understand_ms.append((time.thread_time() - t0) * 1000)
    print(f"rules_load_ms={load_ms:.1f} messages={len(messages)} rounds={args.rounds}")
    print(
        f"understand_p50_ms={statistics.median(understand_ms):.3f} "
        f"understand_p99_ms={percentile(understand_ms, 0.99):.3f} n={len(understand_ms)}"
    )
    print(
        f"classify_wall_p50_ms={statistics.median(classify_wall):.3f} "
        f"classify_wall_p99_ms={percentile(classify_wall, 0.99):.3f} (wall clock, machine load included)"
    )
    print(
        f"classify_p50_ms={statistics.median(classify_ms):.3f} "
        f"classify_p99_ms={percentile(classify_ms, 0.99):.3f} n={len(classify_ms)}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
