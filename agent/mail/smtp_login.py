"""Connect and log in to the SMTP server, by password or XOAUTH2; a refused token is refreshed once."""

from __future__ import annotations

import asyncio

import aiosmtplib

from agent.config import SmtpSettings, read_secret
from agent.mail.oauth import TokenError, TokenSource, token_source

TOKEN_KEY = "smtp.oauth2_token"


class SmtpTokenUnavailable(aiosmtplib.SMTPException):
    """No XOAUTH2 token could be had (variable unset, command failed, sign-in expired): nothing was sent."""


def smtp_token_source(smtp: SmtpSettings) -> TokenSource | None:
    if smtp.auth != "xoauth2" or smtp.oauth2_token is None:
        return None
    return token_source(smtp.oauth2_token, TOKEN_KEY, "smtp", smtp.username)


def smtp_client(smtp: SmtpSettings) -> aiosmtplib.SMTP:
    """An unconnected client that logs in on connect: AUTH XOAUTH2 with a fresh token, or the password."""
    source = smtp_token_source(smtp)
    password = None
    if source is None and smtp.username:
        password = read_secret(smtp.password, "smtp.password")

    async def token() -> str:
        assert source is not None
        # A provider refresh or a token command may block: keep it off the event loop.
        return await asyncio.to_thread(source.token)

    return aiosmtplib.SMTP(
        hostname=smtp.host,
        port=smtp.port,
        username=smtp.username or None,
        password=password,
        oauth_token_generator=token if source is not None else None,
        timeout=smtp.timeout_seconds,
        use_tls=smtp.security == "tls",
        # STARTTLS is required, not opportunistic, when configured; plain (loopback only) never upgrades.
        start_tls=True if smtp.security == "starttls" else False,
        validate_certs=smtp.verify_certificates,
        cert_bundle=str(smtp.ca_file) if smtp.ca_file else None,
    )


async def smtp_connect(client: aiosmtplib.SMTP, smtp: SmtpSettings) -> None:
    """Connect and log in. With XOAUTH2 a refused token is dropped, a fresh one fetched and the login
    tried once more on a new connection; a second refusal raises SMTPAuthenticationError."""
    try:
        try:
            await client.connect()
        except aiosmtplib.SMTPAuthenticationError:
            source = smtp_token_source(smtp)
            if source is None:
                raise
            source.invalidate()
            await client.connect()
    except TokenError as exc:
        raise SmtpTokenUnavailable(str(exc)) from None
