"""STARTTLS and implicit TLS against aiosmtpd with a self-signed certificate: verified by default, refused when untrusted."""

from __future__ import annotations

import datetime as dt
import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import time_machine
from aiosmtpd.controller import Controller
from sqlalchemy import select
from support.smtp import SmtpServer, _free_port, _Handler

from agent.config import SmtpSettings
from agent.db.models import Outbox
from agent.outbox.send import drain_once

T0 = dt.datetime(2025, 2, 11, 17, 0, tzinfo=dt.timezone.utc)


@pytest.fixture(scope="module")
def cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("tls")
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
            "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(base / "key.pem"), "-out", str(base / "cert.pem"),
        ],
        check=True,
        capture_output=True,
    )
    return base / "cert.pem", base / "key.pem"


@pytest.fixture(params=["starttls", "tls"])
def tls_server(request: pytest.FixtureRequest, cert: tuple[Path, Path]) -> Iterator[tuple[str, SmtpServer]]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(cert[0]), str(cert[1]))
    handler = _Handler()
    if request.param == "starttls":
        controller = Controller(
            handler, hostname="127.0.0.1", port=_free_port(), tls_context=context, require_starttls=True
        )
    else:
        controller = Controller(handler, hostname="127.0.0.1", port=_free_port(), ssl_context=context)
    controller.start()
    try:
        yield request.param, SmtpServer(controller, handler)
    finally:
        controller.stop()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_certificates_are_verified(sessions, settings, tls_server, cert, new_request) -> None:
    security, server = tls_server
    rid = new_request(now=T0)
    untrusted = SmtpSettings(host="127.0.0.1", port=server.port, security=security, timeout_seconds=5)
    s1 = settings.model_copy(update={"smtp": untrusted})
    with time_machine.travel(T0, tick=True):
        report = await drain_once(s1, sessions, worker_id="w1", now=T0)
    assert report.paused and report.released == 1 and server.messages == []
    with sessions() as s:
        row = s.scalars(select(Outbox).where(Outbox.request_id == rid)).one()
        assert "CERTIFICATE_VERIFY_FAILED" in (row.last_error or "") or "certificate" in (row.last_error or "").lower()

    trusted = untrusted.model_copy(update={"ca_file": cert[0]})
    s2 = settings.model_copy(update={"smtp": trusted})
    later = T0 + dt.timedelta(minutes=5)
    with time_machine.travel(later, tick=True):
        report = await drain_once(s2, sessions, worker_id="w1", now=later)
    assert report.sent == 1 and len(server.messages) == 1
