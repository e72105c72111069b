"""Reading attachments: text-layer ms per PDF page, OCR seconds per page, the sandbox child's cost, and
whether ingesting mail without attachments slowed down.

  (a) text layer: the eight test letters (tests/support/letters.py) as 1-page PDFs and as a 20-page PDF,
      read with read_here (this process): ms per page, p50 and p99;
  (b) OCR: scanned (image-only) letters, read_here with ocr=True: seconds per page;
  (c) sandbox: the child's start (spawn to "ready"), then read_document of a tiny text file and of a 1-page
      PDF, ms per file, with a cold child each time and with the spare child started ahead;
  (d) with --ingest N: bench/ingest.py's pipeline on N messages without attachments, in this checkout
      and, with --baseline DIR, in another (e.g. main exported with `git archive main | tar -x -C DIR`).
Last line: pdf_page_p50_ms=X pdf_page_p99_ms=X ocr_s_per_page=X child_start_p50_ms=X child_pdf_cold_p50_ms=X
           child_pdf_spare_p50_ms=X [ingest_msgs_per_s=N baseline_msgs_per_s=N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from agent.child_process import readable  # noqa: E402
from agent.documents import sandbox  # noqa: E402
from agent.documents.reading import DocumentReading, ReadingLimits, read_document, read_here  # noqa: E402
from support import letters  # noqa: E402

# bench/ingest.py run from a given checkout, every message without an attachment; prints its key=value line.
_INGEST = """
import sys
sys.path.insert(0, sys.argv[1])
import bench.ingest as ingest
ingest.PDF_SHARE = 0.0
sys.argv = ["ingest", "--n", sys.argv[2]]
raise SystemExit(ingest.main())
"""


def _ms(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _timed(read: Callable[[], DocumentReading], expect: str) -> float:
    started = time.perf_counter()
    reading = read()
    took = time.perf_counter() - started
    if reading.method != expect:
        raise SystemExit(f"bench: expected method {expect}, got {reading.method} ({reading.error})")
    return took


def text_layer(rounds: int) -> list[float]:
    """ms per page over 1-page letters and a 20-page file."""
    per_page: list[float] = []
    files = [(letters.pdf_with_text(text), 1) for text, _, _ in letters.LETTERS.values()]
    files.append((letters.pdf_with_text(letters.LETTERS["denial"][0], pages=20), 20))
    for _ in range(rounds):
        for payload, pages in files:
            took = _timed(lambda: read_here(payload, filename="l.pdf", declared_type="", ocr=False), "text")
            per_page.append(took * 1000 / pages)
    return per_page


def ocr(pages: int) -> list[float]:
    seconds: list[float] = []
    texts = [text for text, _, _ in letters.LETTERS.values()]
    for n in range(pages):
        payload = letters.scanned_pdf(texts[n % len(texts)])
        seconds.append(_timed(lambda: read_here(payload, filename="s.pdf", declared_type="", ocr=True), "ocr"))
    return seconds


def child(rounds: int, payload: bytes, filename: str, expect: str, *, spare: bool) -> list[float]:
    """ms per sandboxed file; with a spare, the spare has had a second to start (the daemon's other work)."""
    sandbox.KEEP_SPARE = spare
    sandbox.close()
    limits = ReadingLimits()
    out = []
    for _ in range(rounds):
        if spare:
            time.sleep(1.0)
        out.append(1000 * _timed(lambda: read_document(payload, filename=filename, declared_type="", ocr=False,
                                                       limits=limits), expect))
    sandbox.close()
    return out


def child_start(rounds: int) -> list[float]:
    """ms from spawning the child to its "ready" (interpreter, imports, PDF reader loaded)."""
    out = []
    for _ in range(rounds):
        started = time.perf_counter()
        started_child = sandbox._start()
        if not readable(started_child.answers, 30):
            raise SystemExit("bench: the sandbox child did not start")
        out.append(1000 * (time.perf_counter() - started))
        sandbox._kill(started_child)
    return out


def ingest_rate(tree: Path, n: int) -> float:
    env = dict(os.environ, PYTHONPATH=str(tree))
    done = subprocess.run([sys.executable, "-c", _INGEST, str(tree), str(n)], env=env, capture_output=True, text=True,
                          check=False, cwd=tree)
    if done.returncode != 0:
        raise SystemExit(f"bench: ingest in {tree} failed: {done.stderr.strip().splitlines()[-1:]}")
    last = done.stdout.strip().splitlines()[-1]
    figures = dict(part.split("=", 1) for part in last.split())
    print(f"    {tree}: {last}", flush=True)
    return float(figures["pipeline_msgs_per_s"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20, help="passes over the text-layer files (default 20)")
    parser.add_argument("--ocr-pages", type=int, default=4, help="scanned pages to OCR (default 4)")
    parser.add_argument("--children", type=int, default=20, help="sandboxed readings per kind (default 20)")
    parser.add_argument("--ingest", type=int, default=0, help="messages for the ingest comparison (needs Dovecot)")
    parser.add_argument("--baseline", type=Path, help="another checkout to run the ingest comparison in")
    args = parser.parse_args()

    pages = text_layer(args.rounds)
    p50, p99 = statistics.median(pages), _ms(pages, 0.99)
    print(f"(a) text layer: {len(pages)} readings, ms per page p50 {p50:.2f}, p99 {p99:.2f}", flush=True)
    seconds = ocr(args.ocr_pages)
    per_ocr_page = statistics.median(seconds)
    print(f"(b) OCR: {len(seconds)} pages, s per page median {per_ocr_page:.2f}, max {max(seconds):.2f}", flush=True)
    start = child_start(args.children)
    print(f"(c) sandbox child start to ready: p50 {statistics.median(start):.0f} ms, p99 {_ms(start, 0.99):.0f} ms",
          flush=True)
    figures = {}
    for spare in (False, True):
        tiny = child(args.children, b"Please see the attached letter.", "note.txt", "text", spare=spare)
        pdf = child(args.children, letters.pdf_with_text(letters.LETTERS["denial"][0]), "l.pdf", "text", spare=spare)
        name = "spare" if spare else "cold"
        figures[name] = statistics.median(pdf)
        print(f"    per file, {name} child: tiny text p50 {statistics.median(tiny):.0f} ms, p99 {_ms(tiny, 0.99):.0f} ms; "
              f"1-page PDF p50 {statistics.median(pdf):.0f} ms, p99 {_ms(pdf, 0.99):.0f} ms", flush=True)
    line = (f"pdf_page_p50_ms={p50:.2f} pdf_page_p99_ms={p99:.2f} ocr_s_per_page={per_ocr_page:.2f} "
            f"child_start_p50_ms={statistics.median(start):.0f} child_pdf_cold_p50_ms={figures['cold']:.0f} "
            f"child_pdf_spare_p50_ms={figures['spare']:.0f}")
    if args.ingest:
        print(f"(d) ingest of {args.ingest} messages without attachments (bench/ingest.py pipeline):", flush=True)
        line += f" ingest_msgs_per_s={ingest_rate(ROOT, args.ingest):.0f}"
        if args.baseline:
            line += f" baseline_msgs_per_s={ingest_rate(args.baseline.resolve(), args.ingest):.0f}"
    print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
