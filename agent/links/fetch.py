"""Download one link's file, carefully: HTTPS, allow-listed hosts, public addresses, few redirects, a size cap.

HEAD first (a declared size over the cap ends it there), then a streamed GET whose first bytes are sniffed:
an HTML page where a file was expected is a sign-in wall, not the records. The file lands in the attachment
store under its sha256. Nothing here writes the URL to a log: a shared link is a password."""

from __future__ import annotations

import hashlib
import logging
import os
import time
import re
from dataclasses import dataclass, field, replace
from email.message import Message
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urljoin

import httpx

from agent.config import LinksSettings
from agent.documents import sniff as sniffing
from agent.links.guard import AddressPolicy, GuardedTransport, refused_reason
from agent.links.urls import BadUrl, host_matches, loggable, parse
from agent.mail.attachments import AttachmentStore, sanitize_filename

log = logging.getLogger("agent.links")

FETCHED = "fetched"
NEEDS_LOGIN = "needs_login"
REFUSED = "refused"
TOO_LARGE = "too_large"
FAILED = "failed"

_REDIRECTS = {301, 302, 303, 307, 308}
_HIDDEN_HEADERS = {"set-cookie", "set-cookie2"}
_CHUNK = 64 * 1024
USER_AGENT = "records-agent (public records request; fetching records an agency sent)"


@dataclass(frozen=True)
class FetchLimits:
    allow_hosts: tuple[str, ...]
    max_bytes: int = 100 * 1024 * 1024
    max_redirects: int = 3
    timeout_seconds: float = 120.0
    connect_timeout_seconds: float = 10.0
    read_timeout_seconds: float = 30.0

    @classmethod
    def from_settings(cls, links: LinksSettings) -> "FetchLimits":
        return cls(
            allow_hosts=tuple(links.allow_hosts),
            max_bytes=links.max_bytes,
            max_redirects=links.max_redirects,
            timeout_seconds=links.timeout_seconds,
            connect_timeout_seconds=links.connect_timeout_seconds,
            read_timeout_seconds=links.read_timeout_seconds,
        )


@dataclass(frozen=True)
class Fetched:
    """What one fetch gave; `retry` says whether trying again later could give something else."""

    state: str
    error: str = ""
    retry: bool = False
    sha256: str | None = None
    stored_path: str | None = None
    size: int = 0
    content_type: str | None = None
    sniffed_type: str | None = None
    filename: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    final_host: str = ""
    redirects: int = 0
    seconds: float = 0.0


class _UrlsAsHosts(logging.Filter):
    """httpx logs every request's full URL at INFO; in its records a URL becomes host and hash."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(loggable(str(a)) if isinstance(a, httpx.URL) or _ANY_URL.fullmatch(str(a)) else a
                                for a in record.args)
        record.msg = _ANY_URL.sub(lambda m: loggable(m.group(0)), str(record.msg))
        return True


def _guard_client_logs() -> None:
    for name in ("httpx", "httpcore"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, _UrlsAsHosts) for f in logger.filters):
            logger.addFilter(_UrlsAsHosts())


class _Stop(Exception):
    def __init__(self, outcome: Fetched) -> None:
        super().__init__(outcome.state)
        self.outcome = outcome


class Fetcher:
    """One httpx client on the guarded transport; reuse it for a batch of links, then close()."""

    def __init__(
        self,
        limits: FetchLimits,
        store: AttachmentStore,
        *,
        policy: AddressPolicy | None = None,
        verify: Any = True,
    ) -> None:
        _guard_client_logs()
        self.limits = limits
        self.store = store
        self.transport = GuardedTransport(policy or AddressPolicy(), verify=verify)
        timeout = httpx.Timeout(
            limits.read_timeout_seconds, connect=limits.connect_timeout_seconds, pool=limits.connect_timeout_seconds
        )
        self.client = httpx.Client(
            transport=self.transport, timeout=timeout, follow_redirects=False, trust_env=False,
            headers={"User-Agent": USER_AGENT},
        )

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> "Fetcher":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def fetch(self, url: str) -> Fetched:
        started = time.monotonic()
        deadline = started + self.limits.timeout_seconds
        try:
            outcome = self._fetch(url, deadline)
        except _Stop as stop:
            outcome = stop.outcome
        except httpx.TimeoutException:
            outcome = Fetched(FAILED, "timed out", retry=True)
        except httpx.HTTPError as exc:
            refused = refused_reason(exc)
            if refused:
                outcome = Fetched(REFUSED, refused)
            else:
                outcome = Fetched(FAILED, f"{type(exc).__name__}: {_one_line(exc)}", retry=True)
        seconds = round(time.monotonic() - started, 3)
        outcome = _with(outcome, seconds=seconds)
        log.info(
            "link %s: %s", loggable(url), outcome.state,
            extra={"link_host": _host(url), "link": loggable(url).rsplit("#", 1)[-1], "state": outcome.state,
                   "seconds": seconds, "bytes": outcome.size, "reason": outcome.error},
        )
        return outcome

    # -- steps ----------------------------------------------------------------------------------

    def _fetch(self, url: str, deadline: float) -> Fetched:
        self._check(url)
        head = self._follow("HEAD", url, deadline)
        if head is not None:
            declared = _declared_length(head[0])
            if declared is not None and declared > self.limits.max_bytes:
                return Fetched(TOO_LARGE, f"declared size {declared} bytes is over max_bytes {self.limits.max_bytes}",
                               headers=_kept_headers(head[0]), final_host=head[0].url.host, redirects=head[1])
        got = self._follow("GET", url, deadline)
        assert got is not None
        response, hops = got
        try:
            return self._body(response, hops, deadline)
        finally:
            response.close()

    def _check(self, url: str) -> None:
        try:
            parsed = parse(url)
        except BadUrl as exc:
            raise _Stop(Fetched(REFUSED, str(exc))) from None
        if parsed.scheme != "https":
            raise _Stop(Fetched(REFUSED, "only https links are fetched"))
        if not host_matches(parsed.host, self.limits.allow_hosts):
            raise _Stop(Fetched(REFUSED, f"host {parsed.host} is not on [links] allow_hosts"))
        # httpx reads the URL itself: it must see the host we checked, not another reading of it.
        if httpx.URL(parsed.text).host.rstrip(".").lower() != parsed.host:
            raise _Stop(Fetched(REFUSED, "URL is read differently by the HTTP client"))

    def _follow(self, method: str, url: str, deadline: float) -> tuple[httpx.Response, int] | None:
        """The response after our own redirect handling (each hop checked); None when a HEAD is not answered."""
        hops = 0
        current = url
        while True:
            self._check(current)
            if time.monotonic() > deadline:
                raise _Stop(Fetched(FAILED, "timed out (timeout_seconds)", retry=True))
            request = self.client.build_request(method, parse(current).text)
            try:
                response = self.client.send(request, stream=True)
            except httpx.HTTPError as exc:
                if method == "HEAD" and refused_reason(exc) is None and not isinstance(exc, httpx.TimeoutException):
                    return None  # some servers drop HEAD; the GET decides
                raise
            if response.status_code in _REDIRECTS and response.headers.get("location"):
                location = response.headers["location"]
                response.close()
                hops += 1
                if hops > self.limits.max_redirects:
                    raise _Stop(Fetched(FAILED, f"more than {self.limits.max_redirects} redirects"))
                current = urljoin(current, location)
                continue
            if method == "HEAD":
                response.close()
                return (response, hops) if response.status_code < 400 else None
            return response, hops

    def _body(self, response: httpx.Response, hops: int, deadline: float) -> Fetched:
        headers = _kept_headers(response)
        host = response.url.host
        declared = response.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        base = Fetched(FAILED, headers=headers, final_host=host, redirects=hops, content_type=declared or None)
        status = response.status_code
        if status in (401, 403):
            return replace(base, state=NEEDS_LOGIN, error=f"HTTP {status}: the host wants a signed-in person")
        if status in (404, 410):
            return replace(base, state=FAILED, error=f"HTTP {status}: the link is gone (expired or removed)")
        if status >= 400 or not 200 <= status < 300:
            return replace(base, state=FAILED, error=f"HTTP {status}", retry=status == 429 or status >= 500)
        length = _declared_length(response)
        if length is not None and length > self.limits.max_bytes:
            return replace(base, state=TOO_LARGE, error=f"declared size {length} bytes is over max_bytes {self.limits.max_bytes}")
        filename = _filename(response)
        incoming = self.store.root / ".incoming"
        incoming.mkdir(parents=True, exist_ok=True)
        tmp = incoming / f"{os.getpid()}.{time.monotonic_ns()}.part"
        digest = hashlib.sha256()
        size = 0
        head = b""
        sniffed = ""
        try:
            with open(tmp, "wb") as fh:
                for chunk in response.iter_bytes(_CHUNK):
                    size += len(chunk)
                    if size > self.limits.max_bytes:
                        return replace(base, state=TOO_LARGE, error=f"more than max_bytes {self.limits.max_bytes} bytes")
                    if time.monotonic() > deadline:
                        return replace(base, state=FAILED, error="timed out (timeout_seconds)", retry=True)
                    digest.update(chunk)
                    fh.write(chunk)
                    if not sniffed and (len(head) < sniffing.HEAD_BYTES):
                        head += chunk[: sniffing.HEAD_BYTES - len(head)]
                        if len(head) >= sniffing.HEAD_BYTES:
                            sniffed = self._sniff_head(head, filename, declared, base)
                fh.flush()
                os.fsync(fh.fileno())
            if not sniffed:
                sniffed = self._sniff_head(head, filename, declared, base)
            if sniffed == sniffing.ZIP or head.startswith(b"PK"):
                sniffed = sniffing.sniff(tmp.read_bytes(), filename=filename, declared=declared)
            sha = digest.hexdigest()
            target = self.store.path_for(sha)
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.exists() and target.stat().st_size == size:
                tmp.unlink()
            else:
                os.replace(tmp, target)
            return replace(base, state=FETCHED, sha256=sha, stored_path=self.store.key_for(sha), size=size,
                           sniffed_type=sniffed, filename=filename)
        finally:
            tmp.unlink(missing_ok=True)

    def _sniff_head(self, head: bytes, filename: str, declared: str, base: Fetched) -> str:
        kind = sniffing.sniff(head, filename=filename, declared=declared)
        if kind == sniffing.HTML or (declared in ("text/html", "application/xhtml+xml") and kind == sniffing.TEXT):
            raise _Stop(replace(base, state=NEEDS_LOGIN, error="an HTML page where a file was expected (sign-in or viewer page)",
                                sniffed_type=sniffing.HTML))
        return kind


def _declared_length(response: httpx.Response) -> int | None:
    raw = response.headers.get("content-length", "").strip()
    return int(raw) if raw.isascii() and raw.isdigit() else None


def _kept_headers(response: httpx.Response) -> dict[str, str]:
    """The response headers as stored: cookies dropped (a session is a credential too)."""
    out: dict[str, str] = {}
    for name, value in response.headers.multi_items():
        key = name.lower()
        if key in _HIDDEN_HEADERS:
            continue
        out[key] = f"{out[key]}, {value}" if key in out else value
    return out


def _filename(response: httpx.Response) -> str:
    disposition = response.headers.get("content-disposition", "")
    if disposition:
        holder = Message()
        holder["content-disposition"] = disposition
        name = holder.get_filename()
        if name:
            return sanitize_filename(name)
    last = unquote(Path(response.url.path).name)
    return sanitize_filename(last) if last else "download"


def _host(url: str) -> str:
    try:
        return parse(url).host
    except BadUrl:
        return "?"


_ANY_URL = re.compile(r"[a-z][a-z0-9+.-]*://\S+", re.I)


def _one_line(exc: BaseException) -> str:
    """An exception's message for a row or a log: one line, short, any URL in it blanked out."""
    return _ANY_URL.sub("<url>", " ".join(str(exc).split()))[:200]


def _with(outcome: Fetched, **changes: Any) -> Fetched:
    return replace(outcome, **changes)
