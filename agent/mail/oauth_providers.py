"""Built-in token providers: Microsoft 365 (msal, device-code sign-in) and Google (google-auth).

Each keeps what lets it refresh (msal's token cache, Google's authorized-user JSON) in a state file
readable by its owner only. The libraries are optional: they are imported when a provider is configured.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from agent.config import TokenSourceSettings
from agent.mail.oauth import AccessToken, Fetch, Service, TokenError

log = logging.getLogger(__name__)

MICROSOFT_SCOPES: dict[Service, list[str]] = {
    "imap": ["https://outlook.office365.com/IMAP.AccessAsUser.All"],
    "smtp": ["https://outlook.office365.com/SMTP.Send"],
}
GOOGLE_SCOPES = ["https://mail.google.com/"]


# -- the state file ---------------------------------------------------------------------------
def write_private(path: Path, text: str) -> None:
    """Replace the file atomically with mode 0600: refresh tokens are as good as a password."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)  # an old .tmp left with wider bits must not keep them
        os.write(fd, text.encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def read_private(path: Path, what: str) -> str | None:
    """The state file's text, None when absent; a file others can read is tightened and said so."""
    try:
        mode = path.stat().st_mode & 0o777
    except FileNotFoundError:
        return None
    if mode & 0o077:
        log.warning("%s: %s was readable by others (mode %o); now 0600", what, path, mode)
        path.chmod(0o600)
    return path.read_text(encoding="utf-8")


def _state_file(cfg: TokenSourceSettings, what: str) -> Path:
    if cfg.state_file is None:
        raise TokenError(f"{what}: no state_file for provider {cfg.provider!r}")
    return cfg.state_file


def _aware(when: dt.datetime | None) -> dt.datetime | None:
    # google-auth keeps expiry as naive UTC.
    return None if when is None else when.replace(tzinfo=dt.timezone.utc) if when.tzinfo is None else when


# -- Microsoft 365 ----------------------------------------------------------------------------
class MicrosoftSignIn:
    """One app registration and its persisted token cache; acquire silently, sign in by device code."""

    def __init__(self, cfg: TokenSourceSettings, what: str) -> None:
        import msal

        self.what = what
        self.state = _state_file(cfg, what)
        self.cache = msal.SerializableTokenCache()
        text = read_private(self.state, what)
        if text:
            self.cache.deserialize(text)
        authority = f"{cfg.authority_host.rstrip('/')}/{cfg.tenant}"
        self.app: Any = msal.PublicClientApplication(
            cfg.client_id, authority=authority, token_cache=self.cache, instance_discovery=False
        )

    def _save(self) -> None:
        if self.cache.has_state_changed:
            write_private(self.state, self.cache.serialize())
            self.cache.has_state_changed = False

    def acquire(self, scopes: list[str], username: str, force: bool) -> AccessToken:
        accounts = self.app.get_accounts(username=username or None) or self.app.get_accounts()
        if not accounts:
            raise TokenError(f"{self.what}: no Microsoft sign-in for {username!r}; run `agent auth login microsoft`")
        result = self.app.acquire_token_silent(scopes, account=accounts[0], force_refresh=force)
        self._save()
        if not result or "access_token" not in result:
            reason = (result or {}).get("error", "the refresh token was refused or has expired")
            raise TokenError(f"{self.what}: Microsoft refresh failed ({reason}); run `agent auth login microsoft`")
        return _token_from(result)

    def login_device_flow(self, scopes: list[str], say: Callable[[str], None]) -> str:
        """Print the code to enter at the verification page, wait for the user, keep the refresh token."""
        flow = self.app.initiate_device_flow(scopes=scopes)
        if "user_code" not in flow:
            raise TokenError(f"{self.what}: device sign-in could not start: {flow.get('error', 'unknown error')}")
        say(str(flow["message"]))
        result = self.app.acquire_token_by_device_flow(flow)
        if "access_token" not in result:
            raise TokenError(f"{self.what}: sign-in failed: {result.get('error', 'unknown error')}")
        self._save()
        claims = result.get("id_token_claims") or {}
        return str(claims.get("preferred_username", ""))


def _token_from(result: dict[str, Any]) -> AccessToken:
    expires_in = int(result.get("expires_in", 0) or 0)
    expires = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=expires_in) if expires_in else None
    return AccessToken(str(result["access_token"]), expires)


# -- Google ----------------------------------------------------------------------------------
class GoogleSignIn:
    """A service account acting for the mailbox (domain-wide delegation) or a user's installed-app sign-in."""

    def __init__(self, cfg: TokenSourceSettings, what: str, username: str) -> None:
        self.cfg = cfg
        self.what = what
        self.username = username
        self._credentials: Any = None

    def _load(self) -> Any:
        if self.cfg.service_account_file is not None:
            from google.oauth2 import service_account

            return service_account.Credentials.from_service_account_file(  # type: ignore[no-untyped-call]  # google-auth leaves it unannotated
                str(self.cfg.service_account_file), scopes=GOOGLE_SCOPES, subject=self.username or None
            )
        from google.oauth2.credentials import Credentials

        state = _state_file(self.cfg, self.what)
        text = read_private(state, self.what)
        if not text:
            raise TokenError(f"{self.what}: no Google sign-in yet ({state}); run `agent auth login google`")
        return Credentials.from_authorized_user_info(json.loads(text), GOOGLE_SCOPES)  # type: ignore[no-untyped-call]  # google-auth leaves it unannotated

    def acquire(self, force: bool) -> AccessToken:
        from google.auth.exceptions import GoogleAuthError
        from google.auth.transport.requests import Request

        if self._credentials is None:
            self._credentials = self._load()
        creds = self._credentials
        if force or not creds.valid:
            try:
                creds.refresh(Request())
            except GoogleAuthError as exc:
                # The library's message quotes the server's error, never the token.
                raise TokenError(f"{self.what}: Google refresh failed: {str(exc)[:200]}") from None
            if self.cfg.service_account_file is None:
                write_private(_state_file(self.cfg, self.what), creds.to_json())
        return AccessToken(str(creds.token), _aware(creds.expiry))

    def login_installed_app(self, say: Callable[[str], None]) -> None:
        """Browser sign-in on a loopback redirect (google-auth-oauthlib); the refresh token is kept 0600."""
        if self.cfg.client_secrets_file is None:
            raise TokenError(f"{self.what}: a service account needs no sign-in")
        from google_auth_oauthlib.flow import InstalledAppFlow

        flow = InstalledAppFlow.from_client_secrets_file(str(self.cfg.client_secrets_file), scopes=GOOGLE_SCOPES)
        creds = flow.run_local_server(
            port=0, open_browser=False, authorization_prompt_message="Open this address to sign in: {url}"
        )
        write_private(_state_file(self.cfg, self.what), creds.to_json())
        say(f"signed in; refresh token kept in {self.cfg.state_file}")


def provider_fetch(cfg: TokenSourceSettings, what: str, service: Service, username: str) -> Fetch:
    """A fetcher for the configured provider; the sign-in object is built at the first login, not at import."""
    if cfg.provider == "microsoft":
        holder: list[MicrosoftSignIn] = []

        def fetch_microsoft(force: bool) -> AccessToken:
            if not holder:
                holder.append(MicrosoftSignIn(cfg, what))
            return holder[0].acquire(MICROSOFT_SCOPES[service], username, force)

        return fetch_microsoft
    if cfg.provider == "google":
        google = GoogleSignIn(cfg, what, username)
        return google.acquire
    raise TokenError(f"{what}: unknown token provider {cfg.provider!r}")
