"""DB glue: the thread context comes from earlier rows, and boilerplate is learned per sender domain (SQLite + PostgreSQL)."""

from __future__ import annotations

import datetime as dt


from sqlalchemy import select

from agent.db.models import Agency, BoilerplateStat, Message, Request
from agent.pipeline.thread_context import MIN_THREADS, build_thread_context, learn_boilerplate
from agent.pipeline.stage_data import parsed_from_text
from agent.pipeline.understand import understand

FOOTER = "This email is in reference to your request. In case of any queries, reply to this email and we will respond."
DOMAIN = "portal.example.gov"


def _setup(session, n_requests: int) -> list[int]:
    agency = Agency(name="Springfield PD", jurisdiction="CA", tracking_patterns=[r"SPD-\d{4}"])
    session.add(agency)
    session.flush()
    ids = []
    for i in range(n_requests):
        request = Request(reference=f"RA-2025-{i:04d}", agency_id=agency.id, jurisdiction="CA",
                          body="Please send all ALPR audit logs from 2023 and every data sharing agreement you hold.")
        session.add(request)
        session.flush()
        ids.append(request.id)
    return ids


def _record(session, request_id, result, n):
    session.add(Message(direction="in", dedupe_key=f"k{n}", sha256=f"{n:064d}", archive_key=f"a{n}",
                        request_id=request_id, cleaned_text=result.cleaned_text,
                        folded=[{"reason": f.reason, "text": f.text} for f in result.folded]))
    session.flush()


def test_context_and_learning(sessions, understand_rules):
    with sessions.begin() as session:
        ids = _setup(session, MIN_THREADS + 1)
        # The same footer in MIN_THREADS different threads becomes that domain's boilerplate.
        for n, request_id in enumerate(ids[:MIN_THREADS]):
            context = build_thread_context(session, request_id, DOMAIN)
            assert context.our_texts and "ALPR audit logs" in context.our_texts[0]
            assert context.tracking_patterns == (r"SPD-\d{4}",) and context.jurisdiction == "CA"
            msg = parsed_from_text(f"Your request SPD-{1000 + n} has been received.\n\n{FOOTER}", from_addr=f"x@{DOMAIN}")
            result = understand(msg, context, understand_rules)
            assert FOOTER in result.cleaned_text  # not yet known as boilerplate
            assert result.tracking_numbers == (f"SPD-{1000 + n}",)
            learn_boilerplate(session, DOMAIN, request_id, result)
            _record(session, request_id, result, n)

        rows = session.scalars(select(BoilerplateStat).where(BoilerplateStat.domain == DOMAIN)).all()
        assert max(len(r.threads) for r in rows) == MIN_THREADS
        context = build_thread_context(session, ids[-1], DOMAIN.upper())
        assert context.domain_fingerprints
        result = understand(parsed_from_text(f"Your records are attached.\n\n{FOOTER}", from_addr=f"x@{DOMAIN}"),
                            context, understand_rules)
        assert FOOTER not in result.cleaned_text
        assert any(f.reason == "learned_boilerplate" for f in result.folded)

        # Earlier inbound messages of the same thread come back as context (and can be excluded).
        context = build_thread_context(session, ids[0], DOMAIN)
        assert len(context.earlier_texts) == 1 and FOOTER in context.earlier_texts[0]
        first_id = session.scalars(select(Message.id).where(Message.request_id == ids[0])).one()
        assert build_thread_context(session, ids[0], DOMAIN, exclude_message_id=first_id).earlier_texts == ()

        # Learning twice from one thread counts the thread once.
        learn_boilerplate(session, DOMAIN, ids[0], result)
        learn_boilerplate(session, DOMAIN, ids[0], result)
        row = session.scalars(select(BoilerplateStat).where(BoilerplateStat.fingerprint == result.fingerprints[0])).one()
        assert row.threads.count(str(ids[0])) == 1 and row.seen >= 2


def test_orphans_get_domain_knowledge_only(sessions):
    with sessions.begin() as session:
        context = build_thread_context(session, None, DOMAIN)
        assert context.earlier_texts == () and context.our_texts == ()
        assert build_thread_context(session, 99999, DOMAIN).earlier_texts == ()


def test_learned_notice_still_gives_its_date(understand_rules):
    from agent.pipeline.stage_data import ThreadContext
    from agent.pipeline.units import fingerprint

    notice = "We will provide the records on or before 03/14/2025."
    context = ThreadContext(domain_fingerprints=frozenset({fingerprint(notice)}))
    msg = parsed_from_text(f"Dear requester,\n\n{notice}", from_addr=f"x@{DOMAIN}", date=dt.date(2025, 3, 1))
    result = understand(msg, context, understand_rules)
    assert notice not in result.cleaned_text
    assert result.expected_date == dt.date(2025, 3, 14)
