"""Benchmark: how long the deadline scan takes to find what is due among many open requests.

    python bench/deadlines.py --db sqlite --n 100000
    python bench/deadlines.py --db postgresql --n 100000   # server from $AGENT_TEST_PG

The query is the scan's own (agent.followups.scan.due_query), which must go through the
ix_requests_next_action index so its cost follows the number due, not the number open.
Last line: due_scan_ms=X open_requests=N due=N db=NAME
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, insert, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agent.db import migrate  # noqa: E402
from agent.db.models import Agency, Request  # noqa: E402
from agent.db.session import make_engine, make_session_factory  # noqa: E402
from agent.followups.scan import due_query  # noqa: E402
from agent.requests.states import AWAITING_AGENCY  # noqa: E402

PG_SERVER = os.environ.get("AGENT_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
TODAY = dt.date(2025, 3, 10)


def _populate(engine, n: int, due_share: float, seed: int) -> int:  # type: ignore[no-untyped-def]
    """n open requests; about due_share of them due on or before TODAY, the rest spread over a year ahead."""
    rng = random.Random(seed)
    due = 0
    with engine.begin() as conn:
        agency_id = conn.execute(
            insert(Agency).values(name="Bench Agency", jurisdiction="CA", emails=["a@b.example"], domains=["b.example"],
                                  tracking_patterns=[]).returning(Agency.id)
        ).scalar_one()
        batch: list[dict[str, object]] = []
        for i in range(n):
            if rng.random() < due_share:
                when = TODAY - dt.timedelta(days=rng.randint(0, 20))
                due += 1
            else:
                when = TODAY + dt.timedelta(days=rng.randint(1, 365))
            batch.append(
                {
                    "reference": f"RA-2025-{i:07d}",
                    "agency_id": agency_id,
                    "state": rng.choice(AWAITING_AGENCY),
                    "jurisdiction": "CA",
                    "variables": {},
                    "subject": "bench",
                    "body": "",
                    "flags": {},
                    "followups_sent": 0,
                    "next_action_date": when,
                    "due_date": when - dt.timedelta(days=1),
                }
            )
            if len(batch) == 5000:
                conn.execute(insert(Request), batch)
                batch.clear()
        if batch:
            conn.execute(insert(Request), batch)
    return due


def _plan(engine, dialect: str) -> str:  # type: ignore[no-untyped-def]
    stmt = due_query(TODAY, 1_000_000).compile(engine, compile_kwargs={"literal_binds": True})
    prefix = "EXPLAIN QUERY PLAN " if dialect == "sqlite" else "EXPLAIN "
    with engine.connect() as conn:
        rows = conn.execute(text(prefix + str(stmt))).fetchall()
    return " | ".join(str(r[-1]) for r in rows)


def run(db: str, n: int, due_share: float, repeats: int) -> None:
    cleanup = None
    if db == "sqlite":
        tmp = tempfile.TemporaryDirectory()
        url = f"sqlite:///{tmp.name}/bench.db"
        cleanup = tmp.cleanup
    else:
        name = f"ra_bench_{uuid.uuid4().hex[:10]}"
        admin = create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = PG_SERVER.rsplit("/", 1)[0] + f"/{name}"

        def cleanup() -> None:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()

    engine = make_engine(url)
    try:
        migrate.upgrade(engine)
        t0 = time.perf_counter()
        due = _populate(engine, n, due_share, seed=7)
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
        print(f"populated {n} open requests ({due} due) in {time.perf_counter() - t0:.1f}s", file=sys.stderr)
        print(f"plan: {_plan(engine, engine.dialect.name)}", file=sys.stderr)
        sessions = make_session_factory(engine)
        # Finding what is due: the scan's WHERE/ORDER BY through the index, returning the ids.
        find_ids = due_query(TODAY, n).with_only_columns(Request.id)
        timings: list[float] = []
        loads: list[float] = []
        found = 0
        for _ in range(repeats):
            with sessions() as session:
                start = time.perf_counter()
                found = len(session.scalars(find_ids).all())
                timings.append((time.perf_counter() - start) * 1000)
            with sessions() as session:
                # The same rows as full ORM objects, as the scan loads them to work on.
                start = time.perf_counter()
                assert len(list(session.scalars(due_query(TODAY, n)))) == found
                loads.append((time.perf_counter() - start) * 1000)
        assert found == due, (found, due)
        print(f"find_runs_ms={','.join(f'{t:.1f}' for t in timings)}", file=sys.stderr)
        print(f"full_rows_ms={statistics.median(loads):.1f} (ORM objects for all {found} due rows)", file=sys.stderr)
        print(f"due_scan_ms={statistics.median(timings):.1f} open_requests={n} due={due} db={engine.dialect.name}")
    finally:
        engine.dispose()
        if cleanup:
            cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--n", type=int, default=100_000, help="open requests (default 100000)")
    parser.add_argument("--due-share", type=float, default=0.005, help="fraction due today (default 0.005)")
    parser.add_argument("--repeats", type=int, default=7, help="timed runs; the median is reported")
    args = parser.parse_args()
    run(args.db, args.n, args.due_share, args.repeats)


if __name__ == "__main__":
    main()
