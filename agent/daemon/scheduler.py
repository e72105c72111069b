"""The periodic jobs on one APScheduler 3.x AsyncIOScheduler; the jobs only read due rows, so ticks may be late or missed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Mapping
from zoneinfo import ZoneInfo

from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from agent.config import ScheduleSettings

JOB_IDS = ("poll", "outbox", "deadlines", "digest", "ocr", "links")
# The links job's first run waits this long (or its interval, if shorter): the first poll brings the mail it reads.
LINKS_FIRST_DELAY_SECONDS = 60.0

JobFunc = Callable[[], Awaitable[object]]


_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def weekly_slot_passed(schedule: ScheduleSettings, now: dt.datetime) -> bool:
    """Has this ISO week's digest time already gone by? Then a daemon that was down at that moment catches up at start.

    The digest itself is idempotent per ISO week (DigestLog), so catching up never sends a week twice.
    """
    local = now.astimezone(ZoneInfo(schedule.timezone))
    hour, minute = (int(part) for part in schedule.digest_time.split(":"))
    monday = local.date() - dt.timedelta(days=local.weekday())
    slot_day = monday + dt.timedelta(days=_WEEKDAYS.index(schedule.digest_day))
    slot = dt.datetime.combine(slot_day, dt.time(hour, minute), tzinfo=local.tzinfo)
    return local >= slot


def build_scheduler(
    schedule: ScheduleSettings, jobs: Mapping[str, JobFunc], *, now: dt.datetime | None = None
) -> AsyncIOScheduler:
    """Create (not start) the scheduler with the fixed job ids; unknown or missing ids are a programming error."""
    if set(jobs) != set(JOB_IDS):
        raise ValueError(f"jobs must be exactly {JOB_IDS}, got {sorted(jobs)}")
    tz = ZoneInfo(schedule.timezone)
    scheduler = AsyncIOScheduler(
        jobstores={"default": MemoryJobStore()},
        # A missed tick runs once, late (coalesce), never twice in parallel (max_instances=1).
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        timezone=tz,
    )
    now = now.astimezone(tz) if now is not None else dt.datetime.now(tz)
    intervals = {
        "poll": schedule.poll_seconds,
        "outbox": schedule.outbox_seconds,
        "deadlines": schedule.deadline_scan_seconds,
        "ocr": schedule.ocr_seconds,
    }
    for job_id, seconds in intervals.items():
        scheduler.add_job(
            jobs[job_id],
            IntervalTrigger(seconds=seconds, timezone=tz),
            id=job_id,
            name=job_id,
            replace_existing=True,
            coalesce=True,
            max_instances=1,
            # The first run is at start: after a restart nothing waits a whole interval.
            next_run_time=now,
        )
    scheduler.add_job(
        jobs["links"],
        IntervalTrigger(seconds=schedule.links_seconds, timezone=tz),
        id="links",
        name="links",
        replace_existing=True,
        coalesce=True,
        max_instances=1,
        next_run_time=now + dt.timedelta(seconds=min(LINKS_FIRST_DELAY_SECONDS, schedule.links_seconds)),
    )
    hour, minute = (int(part) for part in schedule.digest_time.split(":"))
    catch_up = {"next_run_time": now} if weekly_slot_passed(schedule, now) else {}
    scheduler.add_job(
        jobs["digest"],
        CronTrigger(day_of_week=schedule.digest_day, hour=hour, minute=minute, timezone=tz),
        id="digest",
        name="digest",
        replace_existing=True,
        coalesce=True,
        max_instances=1,
        **catch_up,
    )
    return scheduler


def run_soon(scheduler: AsyncIOScheduler, job_id: str) -> None:
    """Bring a job's next run forward to now (USR1, IDLE wake-up, fresh outbox rows)."""
    job = scheduler.get_job(job_id)
    if job is not None:
        job.modify(next_run_time=dt.datetime.now(scheduler.timezone))


def next_run_times(scheduler: AsyncIOScheduler) -> dict[str, str | None]:
    times: dict[str, str | None] = {}
    for job in scheduler.get_jobs():
        when = getattr(job, "next_run_time", None)
        times[job.id] = when.isoformat() if when else None
    return times
