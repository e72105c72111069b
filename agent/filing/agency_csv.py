"""Agency rows from CSV, each field checked, every problem reported with its line: nothing is written here."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

from agent.compose.variables import describe, header_unsafe
from agent.deadlines.statutes import JURISDICTIONS, StatuteError, load_statutes, statute_dir

# Column aliases: people write "email" as often as "emails"; each maps to one canonical field.
COLUMNS: dict[str, str] = {
    "name": "name",
    "emails": "emails",
    "email": "emails",
    "jurisdiction": "jurisdiction",
    "domains": "domains",
    "domain": "domains",
    "portal_url": "portal_url",
    "portal": "portal",
    "tracking_patterns": "tracking_patterns",
    "tracking_pattern": "tracking_patterns",
}
REQUIRED = ("name", "jurisdiction")
LIST_SEPARATOR = ";"

# Deliberately plain: enough to catch typos and pasted junk, not an RFC 5322 parser.
_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@(?P<domain>[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)$")
_DOMAIN = re.compile(r"^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$")
_PORTAL = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,99}$")
_URL = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)
# Text found in almost every agency letter; no tracking-number pattern may match any of it.
_INNOCENT = (
    "2025",
    "2019-2024",
    "02/11/2025",
    "2025-02-11",
    "(310) 285-2400",
    "310-285-2400",
    "Government Code section 7922.535",
    "$25.00",
    "Dear Joey Scott, thank you for your request.",
)


@dataclass(frozen=True)
class AgencyRow:
    """One validated CSV row, normalised (lower-case addresses, upper-case jurisdiction)."""

    line: int
    name: str
    jurisdiction: str
    emails: tuple[str, ...]
    domains: tuple[str, ...]
    portal_url: str | None = None
    portal: str | None = None
    tracking_patterns: tuple[str, ...] = ()


@dataclass(frozen=True)
class RowProblem:
    line: int
    column: str
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}" if self.line else "file"
        return f"{where}: {self.column}: {self.message}" if self.column else f"{where}: {self.message}"


class DirectoryError(Exception):
    """The file cannot be imported; `problems` lists every bad row, so one run shows them all."""

    def __init__(self, source: str, problems: Sequence[RowProblem]) -> None:
        self.source = source
        self.problems = tuple(problems)
        lines = "\n".join(f"  {p}" for p in self.problems)
        super().__init__(f"{source}: {len(self.problems)} problem(s), nothing imported:\n{lines}")


def known_jurisdictions(rules_dir: Path | None) -> frozenset[str]:
    """Jurisdictions with a statute on file; without a statutes folder, every id we know of."""
    directory = statute_dir(rules_dir) if rules_dir is not None else None
    if directory is None or not directory.is_dir():
        return frozenset(JURISDICTIONS)
    # A broken statutes folder is a configuration error the operator must see, not a reason to guess.
    return frozenset(load_statutes(directory))


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(LIST_SEPARATOR) if part.strip()]


def _check_pattern(pattern: str) -> str | None:
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        return f"bad regular expression {pattern!r}: {exc}"
    # A pattern that matches nothing-at-all would "find" a tracking number in every message.
    if compiled.search("") is not None:
        return f"regular expression {pattern!r} matches the empty string"
    # Agency patterns are trusted as written and applied to every incoming message, so one that
    # fires on ordinary dates, years, phone numbers or statute sections would misfile mail everywhere.
    for sample in _INNOCENT:
        if compiled.search(sample) is not None:
            return f"regular expression {pattern!r} also matches ordinary text such as {sample!r}; make it more specific"
    return None


def _validate_row(line: int, raw: dict[str, str], jurisdictions: Collection[str]) -> tuple[AgencyRow | None, list[RowProblem]]:
    problems: list[RowProblem] = []

    def bad(column: str, message: str) -> None:
        problems.append(RowProblem(line, column, message))

    for column, value in raw.items():
        if "\r" in value or "\n" in value or "\x00" in value:
            bad(column, "contains a line break or NUL")
    name = " ".join(raw.get("name", "").split())
    if not name:
        bad("name", "is empty")
    elif len(name) > 300:
        bad("name", "is longer than 300 characters")
    elif header_unsafe(name) is not None:
        # A name goes into letters and onto the operator's terminal: an ESC or a bidi mark has no place in it.
        bad("name", f"contains {describe(header_unsafe(name) or '')}")
    jurisdiction = raw.get("jurisdiction", "").strip().upper()
    if not jurisdiction:
        bad("jurisdiction", "is empty")
    elif jurisdiction not in jurisdictions:
        bad("jurisdiction", f"{jurisdiction!r} has no statute in rules/statutes (use US, DC or a state code)")
    emails: list[str] = []
    for address in _split(raw.get("emails", "")):
        if _EMAIL.match(address):
            emails.append(address.lower())
        else:
            bad("emails", f"{address!r} is not an email address")
    domains: list[str] = []
    for domain in _split(raw.get("domains", "")):
        domain = domain.lower().lstrip("@")
        if _DOMAIN.match(domain):
            domains.append(domain)
        else:
            bad("domains", f"{domain!r} is not a domain name")
    # Replies come at least from the domains we write to; listing them again is optional.
    for address in emails:
        domain = address.rpartition("@")[2]
        if domain not in domains:
            domains.append(domain)
    portal_url = raw.get("portal_url", "").strip() or None
    if portal_url and not _URL.match(portal_url):
        bad("portal_url", f"{portal_url!r} is not an http(s) URL")
    portal = raw.get("portal", "").strip().lower() or None
    if portal and not _PORTAL.match(portal):
        bad("portal", f"{portal!r} should be a short name such as govqa or nextrequest")
    patterns = _split(raw.get("tracking_patterns", ""))
    for pattern in patterns:
        if (problem := _check_pattern(pattern)) is not None:
            bad("tracking_patterns", problem)
    if not _split(raw.get("emails", "")) and not portal_url and name:
        bad("emails", "no email address and no portal_url: there is no way to file with this agency")
    if problems:
        return None, problems
    row = AgencyRow(
        line=line,
        name=name,
        jurisdiction=jurisdiction,
        emails=tuple(dict.fromkeys(emails)),
        domains=tuple(dict.fromkeys(domains)),
        portal_url=portal_url,
        portal=portal,
        tracking_patterns=tuple(dict.fromkeys(patterns)),
    )
    return row, []


def parse_agency_csv(text: str, *, jurisdictions: Collection[str], source: str = "<csv>") -> list[AgencyRow]:
    """Validate every row; raise DirectoryError listing every problem with its line number."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""))
    problems: list[RowProblem] = []
    header: list[str] | None = None
    rows: list[AgencyRow] = []
    seen: dict[str, int] = {}
    last_line = 0
    for record in reader:
        # The record started on the line after the previous one ended (quoted fields may span lines).
        line, last_line = last_line + 1, reader.line_num
        if not record or not any(cell.strip() for cell in record) or record[0].lstrip().startswith("#"):
            continue
        if header is None:
            header = [cell.strip().lower() for cell in record]
            unknown = [c for c in header if c not in COLUMNS]
            if unknown:
                problems.append(RowProblem(line, "", f"unknown column(s) {', '.join(unknown)}; expected {', '.join(sorted(set(COLUMNS)))}"))
            canonical = [COLUMNS.get(c, c) for c in header]
            missing = [c for c in REQUIRED if c not in canonical]
            if missing:
                problems.append(RowProblem(line, "", f"missing column(s) {', '.join(missing)}"))
            dupes = sorted({c for c in canonical if canonical.count(c) > 1})
            if dupes:
                problems.append(RowProblem(line, "", f"column(s) given twice: {', '.join(dupes)}"))
            if problems:
                raise DirectoryError(source, problems)
            header = canonical
            continue
        if len(record) > len(header):
            problems.append(RowProblem(line, "", f"{len(record)} fields, the header has {len(header)}"))
            continue
        raw = {column: (record[i] if i < len(record) else "") for i, column in enumerate(header)}
        row, row_problems = _validate_row(line, raw, jurisdictions)
        problems.extend(row_problems)
        if row is None:
            continue
        key = row.name.casefold()
        if key in seen:
            problems.append(RowProblem(line, "name", f"{row.name!r} already appears on line {seen[key]}"))
            continue
        seen[key] = line
        rows.append(row)
    if header is None:
        problems.append(RowProblem(0, "", "no header row (expected name, emails, jurisdiction, ...)"))
    if problems:
        raise DirectoryError(source, problems)
    return rows


def read_agency_file(path: Path, *, rules_dir: Path | None) -> list[AgencyRow]:
    """Read and validate a CSV file against the statutes on file."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise DirectoryError(str(path), [RowProblem(0, "", f"cannot read: {exc.strerror}")]) from None
    except UnicodeDecodeError as exc:
        raise DirectoryError(str(path), [RowProblem(0, "", f"not UTF-8 text: {exc}")]) from None
    try:
        jurisdictions = known_jurisdictions(rules_dir)
    except StatuteError as exc:
        raise DirectoryError(str(path), [RowProblem(0, "", f"cannot check jurisdictions: {exc}")]) from None
    return parse_agency_csv(text, jurisdictions=jurisdictions, source=str(path))
