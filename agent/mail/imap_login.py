"""Log an IMAP connection in, by password or XOAUTH2; shared by the inbox and the Sent-folder copy."""

from __future__ import annotations

from imapclient import IMAPClient
from imapclient.exceptions import LoginError

from agent.config import ImapSettings, read_secret
from agent.mail.oauth import token_source

TOKEN_KEY = "inbox.imap.oauth2_token"


def is_temporary_login_failure(exc: LoginError) -> bool:
    """"[UNAVAILABLE] Temporary authentication failure": the server's auth side is (re)starting; not our token."""
    text = str(exc).upper()
    return "UNAVAILABLE" in text or "TEMPORARY" in text


def imap_login(client: IMAPClient, cfg: ImapSettings) -> None:
    """Authenticate as configured. A refused token is refreshed and tried once more; a second refusal
    propagates as LoginError (a configuration problem, not something to retry in a loop)."""
    if cfg.auth != "xoauth2":
        password = read_secret(cfg.password, "inbox.imap.password") if cfg.password else ""
        client.login(cfg.username, password)
        return
    assert cfg.oauth2_token is not None  # the config validator requires it for xoauth2
    source = token_source(cfg.oauth2_token, TOKEN_KEY, "imap", cfg.username)
    try:
        client.oauth2_login(cfg.username, source.token())
    except LoginError as exc:
        if is_temporary_login_failure(exc):
            raise
        source.invalidate()
        try:
            client.oauth2_login(cfg.username, source.token())
        except LoginError as again:
            raise LoginError(f"XOAUTH2 token refused, also after a refresh: {again}") from None
