"""Who sent a message, read from the raw From/Sender headers, and whether that answer can be trusted.

The address is taken from the header as written, never from decoded text: an encoded word is display
text only, so `=?utf-8?q?clerk=40agency.example?= <attacker@evil.example>` is attacker@evil.example.
Anything a second reader could take for another address (two From headers, two mailboxes, a group,
route syntax, a second @, text after the address, an encoded or non-ASCII address) leaves the address
"doubtful": it is still recorded for the operator, but it never speaks for an agency.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from email import policy
from email.headerregistry import AddressHeader
from email.utils import getaddresses

# RFC 5322 atext plus the dot; ASCII only, on purpose (lower() maps some non-ASCII letters onto ASCII ones).
_LOCAL = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
_ENCODED_WORD = re.compile(r"=\?[^?\s]*\?[bq]\?", re.IGNORECASE)
_FOLD = re.compile(r"\r?\n[ \t]+")
_QUOTED = "\x01"  # stands for a quoted string in the skeleton of a header value


@dataclass(frozen=True)
class Sender:
    address: str  # lower-cased bare address, "" when none could be read
    name: str  # display name, decoded: text for people, never evidence
    doubt: str = ""  # why the address cannot be trusted; "" when it can

    @property
    def trusted(self) -> bool:
        return bool(self.address) and not self.doubt


def read_sender(raw_headers: Iterable[tuple[str, object]]) -> Sender:
    """The message's author from (name, raw value) header pairs in order, as the message has them."""
    froms: list[str] = []
    senders: list[str] = []
    for name, value in raw_headers:
        key = name.strip().lower()
        if key == "from":
            froms.append(_text(value))
        elif key == "sender":
            senders.append(_text(value))
    if not froms:
        if not senders:
            return Sender("", "", "no From header")
        found = read_mailbox(senders[0])
        return Sender(found.address, found.name, "Sender header without From")
    found = read_mailbox(froms[0])
    if len(froms) > 1:
        return Sender(found.address, found.name, f"{len(froms)} From headers")
    return found


def read_mailbox(value: str) -> Sender:
    """Exactly one plain mailbox (`addr` or `Name <addr>`), checked by our own reading and the stdlib's."""
    value = _FOLD.sub(" ", value).strip()
    name = _display_name(value)
    skeleton = _skeleton(value)
    if skeleton is None:
        return Sender("", name, "unbalanced quotes or comments")
    address, problem = _address_in(skeleton)
    if problem:
        return Sender(_fallback_address(value), name, problem)
    problem = _address_problem(address)
    if problem:
        return Sender(_fallback_address(value), name, problem)
    address = address.lower()
    disagreement = _stdlib_disagrees(value, address)
    if disagreement:
        return Sender(address, name, disagreement)
    return Sender(address, name)


def raw_header_text(value: object) -> str:
    """A raw header value as text; 8-bit bytes the parser kept as surrogates become UTF-8 (else cp1252)."""
    text = str(value)
    if any("\udc80" <= c <= "\udcff" for c in text):
        data = text.encode("ascii", "surrogateescape")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = data.decode("cp1252", "replace")
    return text


def _text(value: object) -> str:
    return raw_header_text(value).replace("\x00", "")


def _skeleton(value: str) -> str | None:
    """The value with comments dropped and quoted strings replaced by one marker; None when unbalanced."""
    out: list[str] = []
    depth = 0
    quoted = False
    escaped = False
    for char in value:
        if escaped:
            escaped = False
            continue
        if char == "\\" and (quoted or depth):
            escaped = True
            continue
        if quoted:
            if char == '"':
                quoted = False
            continue
        if depth:
            depth += {"(": 1, ")": -1}.get(char, 0)
            continue
        if char == '"':
            quoted = True
            out.append(_QUOTED)
        elif char == "(":
            depth = 1
            out.append(" ")
        elif char == ")":
            return None
        else:
            out.append(char)
    if quoted or depth or escaped:
        return None
    return "".join(out).strip()


def _address_in(skeleton: str) -> tuple[str, str]:
    """(address, "") for one mailbox, or ("", why not)."""
    if "," in skeleton:
        return "", "more than one address in From"
    if ":" in skeleton or ";" in skeleton:
        return "", "group or route syntax in From"
    if "<" not in skeleton and ">" not in skeleton:
        if " " in skeleton or "\t" in skeleton:
            return "", "text around a bare address"
        return skeleton, ""
    if skeleton.count("<") != 1 or skeleton.count(">") != 1:
        return "", "more than one angle address"
    phrase, _, rest = skeleton.partition("<")
    inner, _, after = rest.partition(">")
    if after.strip():
        return "", "text after the address"
    if "@" in phrase:
        return "", "an unquoted address in the display name"
    return inner.strip(), ""


def _address_problem(address: str) -> str:
    if not address:
        return "no address"
    if not address.isascii():
        return "non-ASCII address"
    if _QUOTED in address:
        return "quoted local part"
    if address.count("@") != 1:
        return "no @ in the address" if "@" not in address else "more than one @ in the address"
    local, _, domain = address.partition("@")
    if _ENCODED_WORD.search(local) or "?=" in local:
        return "encoded word inside the address"
    if not _LOCAL.match(local):
        return "not a plain local part"
    labels = domain.lower().split(".")
    if len(labels) < 2 or not all(_LABEL.match(label) for label in labels) or labels[-1].isdigit():
        return "not a domain name"
    return ""


def _stdlib_disagrees(value: str, address: str) -> str:
    """Our reading must be the only one the standard library sees too, with no defect on the way."""
    try:
        header = policy.default.header_factory("from", value)
    except Exception:  # noqa: BLE001 - the stdlib parser has crashed on odd groups; that is a doubt, not a crash
        return "the header does not parse"
    if not isinstance(header, AddressHeader):
        return "the header does not parse"
    defects = tuple(getattr(header, "defects", ()))
    if defects:
        return f"header defect: {type(defects[0]).__name__}"
    found = [a.addr_spec.lower() for a in header.addresses]
    if any(group.display_name is not None for group in header.groups) or found != [address]:
        return "the header parsers disagree"
    try:
        pairs = [addr.lower() for _, addr in getaddresses([value])]
    except Exception:  # noqa: BLE001
        return "the header does not parse"
    if pairs != [address]:
        return "the header parsers disagree"
    return ""


def _display_name(value: str) -> str:
    """Decoded display name for people to read; empty when the header cannot be read that far."""
    try:
        header = policy.default.header_factory("from", value)
        addresses = tuple(getattr(header, "addresses", ()))
    except Exception:  # noqa: BLE001 - as above: no display name is better than no message
        return ""
    return str(addresses[0].display_name).strip() if addresses else ""


def _fallback_address(value: str) -> str:
    """The first thing shaped like an address, for the record only (a doubtful sender never counts)."""
    found = re.search(r"[A-Za-z0-9._%+=-]+@[A-Za-z0-9.-]+", value)
    return found.group(0).lower() if found else ""
