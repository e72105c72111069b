"""OAuth 2.0 access tokens for XOAUTH2 logins, shared by IMAP and SMTP: one cached source per config key.

A source hands out a token and is told when the server refused it (`invalidate`): the next token is
then fetched afresh, forcing a provider refresh. Callers try once more and then give up, so a bad
token is an authentication error, never a loop. No message, log line or repr carries a token.
"""

from __future__ import annotations

import datetime as dt
import os
import shlex
import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from agent import secret_registry
from agent.config import ConfigError, TokenSourceSettings

# Refresh this long before the provider's stated expiry, so a login never races the clock.
EXPIRY_MARGIN = dt.timedelta(minutes=5)
Service = Literal["imap", "smtp"]


class TokenError(ConfigError):
    """No token could be had; the message names the source (variable, file, command, provider), never a token."""


@dataclass(frozen=True)
class AccessToken:
    value: str = field(repr=False)
    expires_at: dt.datetime | None = None  # None: the source does not say; fetch again at every login

    def usable(self, now: dt.datetime) -> bool:
        return self.expires_at is not None and now < self.expires_at - EXPIRY_MARGIN


# fetch(force) -> token; force=True after the server refused the previous one.
Fetch = Callable[[bool], AccessToken]


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class TokenSource:
    """A token fetcher with a cache that honours expiry, and a flag that forces the next fetch."""

    def __init__(self, what: str, fetch: Fetch, *, clock: Callable[[], dt.datetime] = _utcnow) -> None:
        self.what = what
        self._fetch = fetch
        self._clock = clock
        self._lock = threading.Lock()
        self._cached: AccessToken | None = None
        self._force = False
        self.fetches = 0  # how often the underlying source was asked; tests and status read it

    def __repr__(self) -> str:
        return f"TokenSource({self.what!r})"

    def token(self) -> str:
        """A token that is not known to be expired; fetched now unless a cached one is still good."""
        with self._lock:
            if self._cached is not None and not self._force and self._cached.usable(self._clock()):
                return self._cached.value
            force, self._force = self._force, False
            self.fetches += 1
            token = self._fetch(force)
            if not token.value:
                raise TokenError(f"{self.what}: the token source gave an empty token")
            secret_registry.remember(token.value)  # log redaction hides every token handed out
            self._cached = token
            return token.value

    def invalidate(self) -> None:
        """The server refused the last token: drop it and make the next fetch a forced refresh."""
        with self._lock:
            self._cached = None
            self._force = True


def from_env(name: str, what: str) -> Fetch:
    def fetch(force: bool) -> AccessToken:
        value = os.environ.get(name, "").strip()
        if not value:
            raise TokenError(f"{what}: environment variable {name} is not set")
        return AccessToken(value)

    return fetch


def from_file(path: os.PathLike[str], what: str) -> Fetch:
    def fetch(force: bool) -> AccessToken:
        try:
            value = open(path, encoding="utf-8").read().strip()
        except OSError as exc:
            raise TokenError(f"{what}: cannot read token file {os.fspath(path)}: {exc.strerror}") from None
        if not value:
            raise TokenError(f"{what}: token file {os.fspath(path)} is empty")
        return AccessToken(value)

    return fetch


def from_command(command: str, what: str, timeout: float) -> Fetch:
    """Run the program at every login (as msmtp's passwordeval does): it keeps its own cache and refresh."""
    argv = shlex.split(command)
    if not argv:
        raise TokenError(f"{what}: the token command is empty")

    def fetch(force: bool) -> AccessToken:
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
        except FileNotFoundError:
            raise TokenError(f"{what}: token command not found: {argv[0]}") from None
        except subprocess.TimeoutExpired:
            raise TokenError(f"{what}: token command {argv[0]} did not finish in {timeout:g}s") from None
        except OSError as exc:
            raise TokenError(f"{what}: cannot run token command {argv[0]}: {exc.strerror}") from None
        if done.returncode != 0:
            # stderr may explain (an expired sign-in); stdout never appears: it may hold a token.
            said = (done.stderr.strip().splitlines() or [""])[-1][:200]
            raise TokenError(f"{what}: token command {argv[0]} exited {done.returncode}" + (f": {said}" if said else ""))
        lines = done.stdout.strip().splitlines()
        return AccessToken(lines[0].strip() if lines else "")

    return fetch


def make_fetch(cfg: TokenSourceSettings, what: str, service: Service, username: str) -> Fetch:
    """The fetcher for one config table; providers are imported only when configured (optional libraries)."""
    if cfg.env:
        return from_env(cfg.env, what)
    if cfg.file:
        return from_file(cfg.file, what)
    if cfg.command:
        return from_command(cfg.command, what, cfg.command_timeout_seconds)
    from agent.mail import oauth_providers

    return oauth_providers.provider_fetch(cfg, what, service, username)


_SOURCES: dict[tuple[str, str, TokenSourceSettings], TokenSource] = {}
_SOURCES_LOCK = threading.Lock()


def token_source(cfg: TokenSourceSettings, what: str, service: Service, username: str) -> TokenSource:
    """One source per config key for the life of the process, so cached tokens are shared across logins."""
    key = (what, username, cfg)
    with _SOURCES_LOCK:
        source = _SOURCES.get(key)
        if source is None:
            source = _SOURCES[key] = TokenSource(what, make_fetch(cfg, what, service, username))
        return source


def forget_sources() -> None:
    """Drop every cached source (tests; a config reload)."""
    with _SOURCES_LOCK:
        _SOURCES.clear()
