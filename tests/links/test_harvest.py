"""The harvest: links of matched replies and of their attached letters become FetchedFile rows, then files."""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from agent.cli import app
from agent.config import load_settings
from agent.db import migrate
from agent.db.models import Agency, Attachment, FetchedFile, Message, Request, ReviewItem
from agent.db.session import make_engine, make_session_factory
from agent.links.harvest import HARVESTED, UNWRAPPED, harvest_once, make_fetcher as fetcher_from_settings
from support import configs
from support.https_files import HOST, LOGIN_PAGE, PDF, send, slow

SEED_LINE = ("Dear Joey Scott, Please find the first batch of responsive records link in the attached letter. "
             "Additional document(s) will be forwarded as they become available.")
TRACKER = "https://email.customerportal.help/c/eJwkyjtuxCAQANDTQGcLBrCHgiKN62hzgmUYx9Zi4fBZKbdPkf6l4NjHlCQHvRpvtAKL8gied7urlZbkLXqF9GRn2O1RxRTJoDwDKHAKtAZtrcLZ"


@pytest.fixture
def workspace(tmp_path: Path, sqlite_url: str):
    def make(**links: object):
        path = configs.write_config(
            tmp_path / "cfg", sqlite_url,
            attachments={"path": str(tmp_path / "store")},
            links={"allow_hosts": [HOST], "max_attempts": 2, **links},
        )
        settings = load_settings(path)
        engine = make_engine(settings.database.url)
        migrate.upgrade(engine)
        return path, settings, make_session_factory(engine)

    return make


def add_reply(sessions, *, body_links: list[str], letter_text: str | None = None, method: str | None = "text",
              status: str = "processed", matched: bool = True, n: int = 1) -> tuple[int, int | None]:
    with sessions.begin() as session:
        agency = session.scalar(select(Agency)) or Agency(name="Beverly Hills Police Department", jurisdiction="CA")
        request = session.scalar(select(Request))
        if request is None:
            request = Request(reference="RA-2025-0001", agency=agency, jurisdiction="CA", state="awaiting_response")
            session.add(request)
            session.flush()
        message = Message(direction="in", dedupe_key=f"<m{n}@city>", sha256=f"{n:064d}", archive_key=f"k{n}",
                          status=status, request_id=request.id if matched else None, kind="reply",
                          cleaned_text=SEED_LINE, facts={"links": body_links})
        session.add(message)
        session.flush()
        attachment_id = None
        if letter_text is not None:
            attachment = Attachment(message_row_id=message.id, filename="CRM-25-191 letter.pdf",
                                    content_type="application/pdf", method=method, text=letter_text,
                                    text_chars=len(letter_text))
            session.add(attachment)
            session.flush()
            attachment_id = attachment.id
        return message.id, attachment_id


def rows(sessions) -> dict[str, FetchedFile]:
    with sessions() as session:
        return {r.url: r for r in session.scalars(select(FetchedFile))}


def test_the_seed_case_the_records_link_inside_the_attached_letter_is_fetched(server, make_fetcher, workspace):
    server.routes["/s/bh191/batch1.pdf"] = lambda h, head: send(h, head, PDF)
    records = server.url("/s/bh191/batch1.pdf")
    letter = ("City of Beverly Hills\nRe: CRM-25-191\nThe first batch of responsive records is available at\n"
              f"{records}\nThis link expires in 30 days.")
    unsubscribe = "https://us1.list-manage.com/unsubscribe?u=a&id=b"
    mimecast = "https://protect-us.mimecast.com/s/AbCdEf?domain=box.com"
    _, settings, sessions = workspace()
    message_id, attachment_id = add_reply(sessions, body_links=[TRACKER, unsubscribe, mimecast, records],
                                          letter_text=letter)
    report = harvest_once(settings, sessions, fetcher=make_fetcher())
    assert (report.messages, report.found, report.fetched) == (1, 4, 1)
    found = rows(sessions)
    row = found[records]
    # The link was in the letter and in the body (facts include attachment text): the letter is named.
    assert row.attachment_id == attachment_id and row.message_row_id == message_id
    assert row.state == "fetched" and row.link_kind == "file_share" and row.attempts == 1
    assert row.sha256 == hashlib.sha256(PDF).hexdigest() and row.size == len(PDF)
    assert (Path(settings.attachments.path) / (row.stored_path or "")).read_bytes() == PDF
    assert row.url_sha256 == hashlib.sha256(records.encode()).hexdigest() and row.host == HOST
    assert row.fetched_at is not None and "set-cookie" not in row.response_headers
    assert (found[TRACKER].link_kind, found[TRACKER].state) == ("tracking", "skipped")
    assert (found[unsubscribe].link_kind, found[unsubscribe].state) == ("unsubscribe", "skipped")
    assert found[mimecast].state == "skipped" and "mimecast" in (found[mimecast].error or "")
    with sessions() as session:
        facts = session.get(Message, message_id).facts
    assert facts[HARVESTED] is True and facts[UNWRAPPED][0]["original"] == mimecast
    # A second run records nothing new and fetches nothing again.
    hits = len(server.hits)
    again = harvest_once(settings, sessions, fetcher=make_fetcher())
    assert (again.found, again.fetched) == (0, 0) and len(server.hits) == hits


def test_a_sign_in_page_becomes_a_download_by_hand_item_and_the_link_stays_out_of_logs(
    server, make_fetcher, workspace, caplog
):
    server.routes["/s/Zq81SecretShare"] = lambda h, head: send(h, head, LOGIN_PAGE, content_type="text/html")
    link = server.url("/s/Zq81SecretShare")
    _, settings, sessions = workspace()
    add_reply(sessions, body_links=[link])
    caplog.set_level(logging.DEBUG)
    report = harvest_once(settings, sessions, fetcher=make_fetcher())
    assert report.needs_login == 1
    assert rows(sessions)[link].state == "needs_login"
    with sessions() as session:
        item = session.scalar(select(ReviewItem).where(ReviewItem.kind == "download_by_hand"))
        assert item is not None and item.request_id is not None
        assert "RA-2025-0001" in item.reason and HOST in item.reason and link in item.reason
        assert item.suggestions[0]["host"] == HOST
    assert caplog.records and all("Zq81SecretShare" not in r.getMessage() + repr(r.__dict__) for r in caplog.records)


def test_a_timeout_is_retried_up_to_max_attempts_then_failed(server, make_fetcher, workspace):
    server.routes["/slow-letter.pdf"] = slow(1.5)
    link = server.url("/slow-letter.pdf")
    _, settings, sessions = workspace()
    add_reply(sessions, body_links=[link])
    first = harvest_once(settings, sessions, fetcher=make_fetcher(read_timeout_seconds=0.2))
    assert first.retry_later == 1 and rows(sessions)[link].state == "pending" and rows(sessions)[link].attempts == 1
    second = harvest_once(settings, sessions, fetcher=make_fetcher(read_timeout_seconds=0.2))
    row = rows(sessions)[link]
    assert second.failed == 1 and row.state == "failed" and row.attempts == 2 and "timed out" in (row.error or "")


def test_only_processed_matched_replies_count_and_a_letter_waiting_for_ocr_waits(server, make_fetcher, workspace):
    server.routes["/ocr.pdf"] = lambda h, head: send(h, head, PDF)
    _, settings, sessions = workspace(fetch=False)
    add_reply(sessions, body_links=[server.url("/orphan.pdf")], matched=False, status="orphan", n=1)
    add_reply(sessions, body_links=[server.url("/quarantined.pdf")], status="quarantined", n=2)
    waiting_id, attachment_id = add_reply(sessions, body_links=[], letter_text="", method="ocr_pending", n=3)
    report = harvest_once(settings, sessions)
    assert (report.messages, report.found) == (0, 0) and not rows(sessions)
    with sessions.begin() as session:
        attachment = session.get(Attachment, attachment_id)
        attachment.method, attachment.text = "ocr", f"records at {server.url('/ocr.pdf')}"
    report = harvest_once(settings, sessions)
    found = rows(sessions)
    assert report.found == 1 and [r.state for r in found.values()] == ["pending"]  # fetch = false: recorded only
    assert next(iter(found.values())).attachment_id == attachment_id


def test_settings_build_a_fetcher_that_refuses_loopback_unless_the_test_switch_is_on(server, workspace):
    url = server.url("/s/cfg.pdf", host="127.0.0.1")
    server.routes["/s/cfg.pdf"] = lambda h, head: send(h, head, PDF)
    _, production, _ = workspace(allow_hosts=["127.0.0.1"])
    assert production.links.allow_private_addresses is False
    with fetcher_from_settings(production, verify=server.client_context()) as fetcher:
        assert fetcher.fetch(url).state == "refused"
    _, test_only, _ = workspace(allow_hosts=["127.0.0.1"], allow_private_addresses=True)
    with fetcher_from_settings(test_only, verify=server.client_context()) as fetcher:
        assert fetcher.fetch(url).state == "fetched"


def test_cli_fetch_once_and_list(server, workspace):
    link = server.url("/s/CliT0ken/records.pdf")
    path, settings, sessions = workspace(fetch=False)
    add_reply(sessions, body_links=[link, TRACKER])
    runner = CliRunner()
    result = runner.invoke(app, ["--config", str(path), "links", "fetch", "--once", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["found"] == 2
    listed = runner.invoke(app, ["--config", str(path), "links", "list", "RA-2025-0001", "--json"])
    assert listed.exit_code == 0, listed.output
    data = json.loads(listed.output)
    assert {(d["link_kind"], d["state"]) for d in data} == {("file_share", "pending"), ("tracking", "skipped")}
    assert "CliT0ken" not in listed.output and all("url" not in d for d in data)
    table = runner.invoke(app, ["--config", str(path), "links", "list"])
    assert table.exit_code == 0 and "CliT0ken" not in table.output and "tracking" in table.output
    with_urls = runner.invoke(app, ["--config", str(path), "links", "list", "--urls", "--json"])
    assert link in {d["url"] for d in json.loads(with_urls.output)}
    unknown = runner.invoke(app, ["--config", str(path), "links", "list", "RA-1999-9999"])
    assert unknown.exit_code == 1 and "RA-1999-9999" in unknown.output
    bad_state = runner.invoke(app, ["--config", str(path), "links", "list", "--state", "lost"])
    assert bad_state.exit_code == 2


def test_the_daemon_job_runs_the_harvest(workspace):
    import asyncio

    from agent.daemon.run import build_jobs

    _, settings, sessions = workspace(fetch=False)
    add_reply(sessions, body_links=[TRACKER])
    jobs = build_jobs(settings)
    try:
        result = asyncio.run(jobs.links())
    finally:
        jobs.close()
    assert result is not None and result["found"] == 1 and jobs.counters["links"] == 1
