"""One strict reading of a URL, shared by the sorter, the unwrapper and the fetcher.

Parsers disagree on odd URLs ("https://box.com\\@evil.example/", userinfo, spaces): whatever we check must be what
we connect to. So a URL we cannot read one unambiguous way is refused here, before anyone looks at its host."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

_BAD_CHARS = re.compile(r"[\x00-\x20\x7f\\]")


class BadUrl(ValueError):
    """A URL we refuse to read (one line, safe to log: it never quotes the URL)."""


@dataclass(frozen=True)
class Url:
    scheme: str  # lower case
    host: str  # lower case, no trailing dot; an IPv6 literal without brackets
    port: int | None
    path: str  # "/" when empty
    query: str
    text: str  # the URL rebuilt from the parts above (no fragment)

    @property
    def target(self) -> str:
        """Path and query, what the kind rules read."""
        return self.path + ("?" + self.query if self.query else "")


def parse(url: str) -> Url:
    """An absolute http(s) URL with a host, no userinfo, no whitespace or backslashes (RFC 3986 reading)."""
    if _BAD_CHARS.search(url):
        raise BadUrl("URL holds whitespace, control characters or a backslash")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise BadUrl(f"URL does not parse: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise BadUrl(f"scheme {scheme or '(none)'!r} is not http or https")
    if "@" in parts.netloc:
        raise BadUrl("URL carries a user name or password")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise BadUrl("URL has no host")
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc += f":{port}"
    path = parts.path or "/"
    text = urlunsplit((scheme, netloc, path, parts.query, ""))
    return Url(scheme=scheme, host=host, port=port, path=path, query=parts.query, text=text)


def url_sha256(url: str) -> str:
    return hashlib.sha256(url.encode("utf-8", "surrogatepass")).hexdigest()


def loggable(url: str) -> str:
    """What a log line may say about a link: its host and a short hash, never the (capability) URL itself."""
    try:
        host = parse(url).host
    except BadUrl:
        host = "?"
    return f"{host} #{url_sha256(url)[:12]}"


def host_matches(host: str, entries: tuple[str, ...] | list[str]) -> bool:
    """Is host one of entries or below one of them ("app.box.com" under "box.com"; "evilbox.com" is not)."""
    host = host.lower().rstrip(".")
    return any(host == e or host.endswith("." + e) for e in entries)
