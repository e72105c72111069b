"""The scheduler has exactly the fixed jobs with the agreed options and triggers."""

from __future__ import annotations

import asyncio
import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from agent.config import ScheduleSettings
from agent.daemon.scheduler import JOB_IDS, build_scheduler, next_run_times, run_soon


def _jobs(calls: list[str]):
    def make(name: str):
        async def job() -> None:
            calls.append(name)

        return job

    return {name: make(name) for name in JOB_IDS}


def test_jobs_and_options() -> None:
    schedule = ScheduleSettings(poll_seconds=7, outbox_seconds=11, deadline_scan_seconds=600, digest_day="tue", digest_time="09:30")
    scheduler = build_scheduler(schedule, _jobs([]))
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == set(JOB_IDS)
    for job in jobs.values():
        assert job.coalesce is True and job.max_instances == 1
    assert isinstance(jobs["poll"].trigger, IntervalTrigger)
    assert jobs["poll"].trigger.interval == dt.timedelta(seconds=7)
    assert jobs["outbox"].trigger.interval == dt.timedelta(seconds=11)
    assert jobs["deadlines"].trigger.interval == dt.timedelta(seconds=600)
    assert jobs["ocr"].trigger.interval == dt.timedelta(seconds=schedule.ocr_seconds)
    cron = jobs["digest"].trigger
    assert isinstance(cron, CronTrigger)
    tz = ZoneInfo("America/Los_Angeles")
    fire = cron.get_next_fire_time(None, dt.datetime(2025, 3, 3, 12, 0, tzinfo=tz))  # a Monday
    assert fire == dt.datetime(2025, 3, 4, 9, 30, tzinfo=tz)


def test_wrong_job_set_is_refused() -> None:
    jobs = _jobs([])
    jobs.pop("digest")
    with pytest.raises(ValueError):
        build_scheduler(ScheduleSettings(), jobs)


async def test_interval_jobs_run_at_start_and_run_soon_brings_one_forward() -> None:
    calls: list[str] = []
    schedule = ScheduleSettings(poll_seconds=3600, outbox_seconds=3600, deadline_scan_seconds=3600)
    scheduler = build_scheduler(schedule, _jobs(calls))
    scheduler.start()
    try:
        await asyncio.sleep(0.3)
        from agent.daemon.scheduler import weekly_slot_passed

        # The digest also runs at start when this week's slot has passed (catch-up; idempotent per week).
        expected = ["deadlines", "ocr", "outbox", "poll"] + (["digest"] if weekly_slot_passed(schedule, dt.datetime.now(dt.timezone.utc)) else [])
        assert sorted(calls) == sorted(expected)
        run_soon(scheduler, "poll")
        await asyncio.sleep(0.3)
        assert calls.count("poll") == 2
        times = next_run_times(scheduler)
        assert set(times) == set(JOB_IDS) and all(times.values())
    finally:
        scheduler.shutdown(wait=True)
        await asyncio.sleep(0)


async def test_a_request_during_a_run_is_not_lost(sqlite_url, make_settings) -> None:
    """IDLE or USR1 asking for a poll while one runs gets exactly one more poll right after it."""
    from agent.daemon.run import build_jobs
    from agent.db import migrate

    settings = make_settings(sqlite_url)
    jobs = build_jobs(settings)
    migrate.upgrade(jobs.engine)
    calls: list[float] = []

    def slow_poll() -> dict[str, int]:
        calls.append(1)
        return {"new": 0}

    jobs._poll_sync = slow_poll  # type: ignore[method-assign]
    scheduler = build_scheduler(
        ScheduleSettings(poll_seconds=3600, outbox_seconds=3600, deadline_scan_seconds=3600), jobs.as_mapping()
    )
    jobs.nudge = lambda job_id: run_soon(scheduler, job_id)
    scheduler.start()
    try:
        await asyncio.sleep(0.5)
        assert len(calls) == 1
        # Pretend a poll is in flight and ask twice: one extra run, not two, and not none.
        jobs._running_ids.add("poll")
        jobs.request("poll")
        jobs.request("poll")
        jobs._running_ids.discard("poll")
        await jobs.poll()
        await asyncio.sleep(0.5)
        assert len(calls) == 3
    finally:
        scheduler.shutdown(wait=True)
        await asyncio.sleep(0)
        jobs.close()


def test_stopping_inbox_finishes_the_batch_in_hand_and_starts_no_other() -> None:
    import threading

    from agent.daemon.inflight import StoppableInbox

    class Inbox:
        account, folder = "default", "INBOX"

        def batches(self, checkpoint):
            for n in range(5):
                yield [n]

    stopping = threading.Event()
    seen = []
    for batch in StoppableInbox(Inbox(), stopping).batches(None):
        seen.append(batch)
        if len(seen) == 2:
            stopping.set()  # TERM arrives while the second batch is processed
    assert seen == [[0], [1]]
    assert StoppableInbox(Inbox(), stopping).folder == "INBOX"


async def test_digest_catches_up_at_start_only_after_this_weeks_slot() -> None:
    """A daemon down at Monday 08:00 sends that week's digest when it starts; one started earlier waits."""
    from zoneinfo import ZoneInfo

    from agent.daemon.scheduler import weekly_slot_passed

    tz = ZoneInfo("America/Los_Angeles")
    schedule = ScheduleSettings(timezone="America/Los_Angeles", digest_day="mon", digest_time="08:00")
    wednesday = dt.datetime(2025, 3, 12, 9, 30, tzinfo=tz)
    early_monday = dt.datetime(2025, 3, 10, 7, 0, tzinfo=tz)
    assert weekly_slot_passed(schedule, wednesday)
    assert not weekly_slot_passed(schedule, early_monday)
    assert weekly_slot_passed(schedule, dt.datetime(2025, 3, 10, 8, 0, tzinfo=tz))

    for now, catches_up in ((wednesday, True), (early_monday, False)):
        scheduler = build_scheduler(schedule, _jobs([]), now=now)
        scheduler.start(paused=True)
        try:
            next_run = scheduler.get_job("digest").next_run_time
            if catches_up:
                assert next_run == wednesday
            else:  # left to the cron trigger: a Monday at 08:00, never "now"
                assert next_run != early_monday
                assert (next_run.weekday(), next_run.hour, next_run.minute) == (0, 8, 0)
        finally:
            scheduler.shutdown(wait=False)
