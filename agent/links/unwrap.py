"""Undo the link rewriting of mail security gateways, offline: the records' real address is inside the wrapper.

Microsoft Safe Links and Proofpoint URL Defense carry the target in the link itself; Mimecast keeps it on its
servers, so a Mimecast link stays wrapped (we never ask Mimecast: that would be fetching an unknown target)."""

from __future__ import annotations

import base64
import binascii
import re
import string
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote

from agent.links.urls import BadUrl, host_matches, parse

MAX_LAYERS = 4  # a Safe Link around a Proofpoint link around ...: a few layers, then stop

SAFELINKS = "safelinks"
PROOFPOINT = "proofpoint"
MIMECAST = "mimecast"


@dataclass(frozen=True)
class Unwrapped:
    original: str
    url: str  # the target, or the original when there was no wrapper or it cannot be opened
    wrappers: tuple[str, ...] = ()  # outermost first
    wrapped: bool = False  # still wrapped (Mimecast): the target is unknown


def unwrap(url: str) -> Unwrapped:
    current, layers = url, list[str]()
    for _ in range(MAX_LAYERS):
        try:
            parsed = parse(current)
        except BadUrl:
            break
        if host_matches(parsed.host, ["safelinks.protection.outlook.com"]):
            inner = _query_value(parsed.query, "url")
            name = SAFELINKS
        elif host_matches(parsed.host, ["urldefense.proofpoint.com", "urldefense.com"]):
            inner = _proofpoint(parsed.path, parsed.query)
            name = PROOFPOINT
        elif _is_mimecast(parsed.host):
            return Unwrapped(url, current, (*layers, MIMECAST), wrapped=True)
        else:
            break
        if not inner:
            # A wrapper we recognise but cannot open: keep it, marked, rather than guess.
            return Unwrapped(url, current, (*layers, name), wrapped=True)
        layers.append(name)
        current = inner
    return Unwrapped(url, current, tuple(layers))


def _is_mimecast(host: str) -> bool:
    # protect-eu.mimecast.com, protect-us.mimecast.com, url.uk.m.mimecastprotect.com
    return bool(re.fullmatch(r"(?:[a-z0-9-]+\.)*(?:protect[a-z0-9-]*\.mimecast\.com|mimecastprotect\.com)", host))


def _query_value(query: str, name: str) -> str:
    values = parse_qs(query, keep_blank_values=False).get(name) or []
    return values[0] if values else ""


def _proofpoint(path: str, query: str) -> str:
    if path.startswith("/v1/"):
        return _query_value(query, "u")
    if path.startswith("/v2/"):
        # v2 writes the target's percent-escapes with "-" for "%" and "_" for "/".
        encoded = _query_value(query, "u")
        return unquote(encoded.replace("-", "%").replace("_", "/")) if encoded else ""
    if path.startswith("/v3/"):
        return _proofpoint_v3(path + ("?" + query if query else ""))
    return ""


_V3 = re.compile(r"^/v3/__(?P<url>.+?)__;(?P<bytes>[A-Za-z0-9_-]*)!")
_V3_TOKEN = re.compile(r"\*(\*.)?")
# "**X" stands for a run of replaced characters; X gives its length, "A" = 2, "B" = 3, ...
_V3_RUNS = {c: n for n, c in enumerate(string.ascii_uppercase + string.ascii_lowercase + string.digits + "-_", 2)}


def _proofpoint_v3(rest: str) -> str:
    """v3 keeps the URL in the path; characters it would not keep there are "*" and travel base64-encoded after ";"."""
    match = _V3.match(rest)
    if match is None:
        return ""
    try:
        padded = match.group("bytes") + "=" * (-len(match.group("bytes")) % 4)
        replaced = base64.urlsafe_b64decode(padded).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return ""
    out, pos, used = [], 0, 0
    for token in _V3_TOKEN.finditer(match.group("url")):
        out.append(match.group("url")[pos : token.start()])
        run = token.group(1)
        count = _V3_RUNS.get(run[1], 0) if run else 1
        if count == 0 or used + count > len(replaced):
            return ""
        out.append(replaced[used : used + count])
        used += count
        pos = token.end()
    out.append(match.group("url")[pos:])
    return "".join(out)
