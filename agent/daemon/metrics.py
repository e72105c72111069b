"""The status figures as a Prometheus textfile ([daemon] metrics_file) for node_exporter's textfile collector.

Built from the same snapshot as the status file, so the two never disagree; prometheus_client writes it
to a temporary name beside the target and renames it, so the collector never reads half a file.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, write_to_textfile
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

PREFIX = "records_agent"
JOBS = ("poll", "send", "scan", "digest")


def write_metrics_file(path: Path, status: Mapping[str, Any], now: dt.datetime) -> None:
    """Replace the textfile with the figures in `status` (the daemon's snapshot, as in the status file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Figures(status, now))
    write_to_textfile(str(path), registry)


class _Figures(Collector):
    def __init__(self, status: Mapping[str, Any], now: dt.datetime) -> None:
        self._status = status
        self._now = now

    def collect(self) -> Iterator[Metric]:
        return iter(figures(self._status, self._now))


def figures(status: Mapping[str, Any], now: dt.datetime) -> list[Metric]:
    """Every metric family for one snapshot; names and labels are the contract monitoring relies on."""
    daemon = _dict(status.get("daemon"))
    up = GaugeMetricFamily(f"{PREFIX}_up", "1 while the daemon says it is running, else 0")
    up.add_metric([], 1.0 if daemon.get("state") == "running" else 0.0)
    written = GaugeMetricFamily(f"{PREFIX}_status_written_timestamp_seconds", "When the daemon wrote these figures")
    written.add_metric([], now.timestamp())

    last_run = GaugeMetricFamily(f"{PREFIX}_job_last_run_timestamp_seconds", "When each job last ran", labels=["job"])
    last_ok = GaugeMetricFamily(f"{PREFIX}_job_last_run_ok", "1 if the job's last run succeeded, 0 if it failed", labels=["job"])
    duration = GaugeMetricFamily(f"{PREFIX}_job_last_run_seconds", "How long the job's last run took", labels=["job"])
    counts = GaugeMetricFamily(
        f"{PREFIX}_job_last_run_items", "The counts the job's last run reported (sent, new, ...)", labels=["job", "figure"]
    )
    for job in JOBS:
        value = _dict(status.get(job))
        if not value:
            continue
        at = _timestamp(value.get("at"))
        if at is not None:
            last_run.add_metric([job], at)
        if isinstance(value.get("ok"), bool):
            last_ok.add_metric([job], 1.0 if value["ok"] else 0.0)
        if _number(value.get("seconds")):
            duration.add_metric([job], float(value["seconds"]))
        for name, figure in sorted(value.items()):
            if name not in ("seconds", "ok") and _number(figure):
                counts.add_metric([job, name], float(figure))

    queues = GaugeMetricFamily(f"{PREFIX}_queue_size", "Rows waiting, by queue", labels=["queue"])
    for name, size in sorted(_dict(status.get("queues")).items()):
        if _number(size):
            queues.add_metric([name], float(size))

    errors = CounterMetricFamily(f"{PREFIX}_errors", "Job failures recorded since the database was created")
    errors.add_metric([], float(_dict(status.get("errors")).get("count", 0) or 0))

    pause = _dict(status.get("outbox_pause"))
    until = _timestamp(pause.get("until")) if pause.get("paused") else None
    paused = GaugeMetricFamily(f"{PREFIX}_outbox_paused", "1 while the circuit breaker holds all sending")
    paused.add_metric([], 1.0 if until is not None and until > now.timestamp() else 0.0)
    resume = GaugeMetricFamily(f"{PREFIX}_outbox_paused_until_timestamp_seconds", "When sending is tried again")
    if until is not None:
        resume.add_metric([], until)

    runs = CounterMetricFamily(f"{PREFIX}_process_runs", "Job runs by this daemon process", labels=["counter"])
    for name, value in sorted(_dict(_dict(status.get("process")).get("counters")).items()):
        if _number(value):
            runs.add_metric([name], float(value))
    return [up, written, last_run, last_ok, duration, counts, queues, errors, paused, resume, runs]


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _timestamp(value: Any) -> float | None:
    if not isinstance(value, str):
        return None
    try:
        when = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    return when.timestamp()
