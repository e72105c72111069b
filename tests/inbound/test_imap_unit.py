"""IMAP policy without a server: what is retried, what is refused, and how TLS is set up."""

from __future__ import annotations

import imaplib
import socket
import ssl

import pytest
from imapclient.exceptions import IMAPClientAbortError, LoginError
from pydantic import ValidationError

from agent.config import ImapSettings
from agent.mail.imap_inbox import is_session_failure, is_transient, make_ssl_context


@pytest.mark.parametrize(
    ("exc", "transient"),
    [
        (ConnectionRefusedError(), True),
        (socket.timeout(), True),
        (imaplib.IMAP4.abort("socket error: EOF"), True),
        (IMAPClientAbortError("BYE"), True),
        (LoginError("b'[UNAVAILABLE] Temporary authentication failure.'"), True),
        (LoginError("b'[AUTHENTICATIONFAILED] Authentication failed.'"), False),
        (ssl.SSLCertVerificationError("certificate verify failed"), False),
        (ValueError("bug"), False),
    ],
)
def test_what_is_retried(exc: BaseException, transient: bool) -> None:
    assert is_transient(exc) is transient


def test_an_imap_error_on_a_working_session_means_reconnect() -> None:
    assert is_session_failure(imaplib.IMAP4.error("Unexpected IDLE response: b'* BYE Server shutting down.'"))
    assert not is_session_failure(LoginError("no"))


def test_tls_verifies_by_default_and_only_relaxes_when_told() -> None:
    strict = make_ssl_context(ImapSettings())
    assert strict.verify_mode == ssl.CERT_REQUIRED and strict.check_hostname
    lax = make_ssl_context(ImapSettings(verify_certificates=False))
    assert lax.verify_mode == ssl.CERT_NONE and not lax.check_hostname


def test_plain_text_only_for_loopback() -> None:
    assert ImapSettings(host="127.0.0.1", security="plain").security == "plain"
    with pytest.raises(ValidationError, match="loopback"):
        ImapSettings(host="imap.example.org", security="plain")
