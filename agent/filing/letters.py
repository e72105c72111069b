"""Letters from templates: every letter names the statute and the date its answer is due, from the statutes data."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from jinja2 import meta

from agent.compose.letter_template import (
    LetterTemplate,
    LetterTemplateError,
    compiled,
    header_variables,
    split_letter_template,
)
from agent.compose.render import TemplateError, render_template, template_env
from agent.compose.variables import VariableError, check_variables, header_text
from agent.config import IdentitySettings
from agent.deadlines.business_days import BusinessCalendar
from agent.deadlines.compute import Deadline, compute_deadline
from agent.deadlines.statutes import Statute, StatuteError
from agent.filing.missing import missing_variables
from agent.requests.clock import deadline_tools

LETTERS_DIR = "letters"
SUFFIX = ".txt.j2"
# The first lines of a template's source are headers, up to the first blank line.
HEADER_KEYS = frozenset({"subject", "jurisdictions"})
# Names the letter machinery supplies; a --var with one of these names would silently be ignored.
RESERVED = frozenset({"agency", "statute", "deadline", "requester", "reference", "filed_on", "year_list"})


class LetterError(TemplateError):
    """A letter cannot be made: unknown template, missing variable, wrong jurisdiction, no statute."""


@dataclass(frozen=True)
class StatuteBook:
    """Statutes and the business-day calendar, loaded once and shared by every letter of a campaign."""

    statutes: Mapping[str, Statute]
    calendar: BusinessCalendar

    def deadline(self, jurisdiction: str, filed_on: dt.date) -> tuple[Statute, Deadline]:
        statute = self.statutes.get(jurisdiction)
        if statute is None:
            raise LetterError(f"no statute for jurisdiction {jurisdiction!r} in rules/statutes/")
        return statute, compute_deadline(statute, filed_on, self.calendar)


def load_statute_book(rules_dir: Path) -> StatuteBook:
    """The same cached statutes and calendar the request clock uses, so a letter and mark_sent never disagree."""
    try:
        statutes, calendar = deadline_tools(Path(rules_dir))
    except StatuteError as exc:
        raise LetterError(f"cannot load statutes: {exc}") from None
    return StatuteBook(statutes=statutes, calendar=calendar)


@dataclass(frozen=True)
class AgencyInfo:
    """The little a letter needs to know about its addressee."""

    name: str
    jurisdiction: str


@dataclass(frozen=True)
class Letter:
    template: str
    subject: str  # without our reference; the sender prefixes it
    body: str
    jurisdiction: str
    citation: str
    due: dt.date
    extended_due: dt.date | None


def template_path(name: str) -> str:
    """`alpr`, `alpr.txt.j2` and `letters/alpr.txt.j2` all name the same template."""
    name = name.strip()
    if name.startswith(LETTERS_DIR + "/"):
        name = name[len(LETTERS_DIR) + 1 :]
    if not name.endswith(SUFFIX):
        name += SUFFIX
    if "/" in name or name.startswith("."):
        raise LetterError(f"template name {name!r} must be a plain name such as cpra_general")
    return f"{LETTERS_DIR}/{name}"


def template_name(name: str) -> str:
    return template_path(name)[len(LETTERS_DIR) + 1 : -len(SUFFIX)]


def list_templates(rules_dir: Path) -> list[str]:
    folder = Path(rules_dir) / "templates" / LETTERS_DIR
    return sorted(p.name[: -len(SUFFIX)] for p in folder.glob("*" + SUFFIX)) if folder.is_dir() else []


def template_variables(rules_dir: Path, name: str) -> frozenset[str]:
    """Variables a template uses that the letter machinery does not supply (the user's --var names)."""
    env = template_env(Path(rules_dir))
    try:
        source, _, _ = env.loader.get_source(env, template_path(name))  # type: ignore[union-attr]  # template_env always sets a loader
        return _undeclared(env, source) - RESERVED
    except jinja2.TemplateNotFound:
        raise LetterError(_not_found(rules_dir, name)) from None
    except jinja2.TemplateSyntaxError as exc:
        raise LetterError(f"template {template_name(name)!r}, line {exc.lineno}: {exc.message}") from None


@lru_cache(maxsize=64)
def _undeclared(env: jinja2.Environment, source: str) -> frozenset[str]:
    # Parsing is the slow part of a 60-letter campaign; the source text is the cache key, so an edit is seen.
    return frozenset(meta.find_undeclared_variables(env.parse(source)))


def _not_found(rules_dir: Path, name: str) -> str:
    known = ", ".join(list_templates(rules_dir)) or "none"
    return f"template {template_name(name)!r} not found in {Path(rules_dir) / 'templates' / LETTERS_DIR} (available: {known})"


def year_list(value: Any) -> list[int]:
    """`2019-2024`, `2019,2021,2022`, `2020` or a list → sorted distinct years; a letter must not ask for nonsense."""
    if isinstance(value, jinja2.Undefined):
        str(value)  # raises under StrictUndefined, which names the variable; records it when diagnosing
        return []
    if isinstance(value, (list, tuple)):
        parts = [str(v) for v in value]
    else:
        parts = [p.strip() for p in re.split(r"[,\s;]+", str(value)) if p.strip()]
    years: set[int] = set()
    for part in parts:
        m = re.fullmatch(r"(\d{4})(?:\s*(?:-|\.\.|–)\s*(\d{4}))?", part)
        if not m:
            raise LetterError(f"years: {part!r} is not a year or a range such as 2019-2024")
        first, last = int(m.group(1)), int(m.group(2) or m.group(1))
        if last < first or not 1900 <= first <= 2200 or last - first > 100:
            raise LetterError(f"years: {part!r} is not a sensible range")
        years.update(range(first, last + 1))
    if not years:
        raise LetterError("years: no year given (e.g. --var years=2019-2024)")
    return sorted(years)


def _long(d: dt.date | None) -> str:
    return f"{d:%B} {d.day}, {d.year}" if d else ""


def _deadline_view(statute: Statute, deadline: Deadline) -> dict[str, Any]:
    return {
        "due": deadline.due,
        "due_text": _long(deadline.due),
        "extended_due": deadline.extended_due,
        "extended_due_text": _long(deadline.extended_due),
        "days": statute.days,
        "day_type": statute.day_type,
        "clock_starts": statute.clock_starts,
        "basis": deadline.basis,
        "citation": deadline.citation,
        "vague": deadline.vague,
    }


@lru_cache(maxsize=64)
def _parts(source: str, name: str) -> LetterTemplate:
    try:
        return split_letter_template(source, name, HEADER_KEYS)
    except LetterTemplateError as exc:
        raise LetterError(str(exc)) from None


def letter_template(rules_dir: Path, name: str) -> LetterTemplate:
    """The named template cut into preamble, headers and body (LetterError if it is missing or malformed)."""
    template_variables(rules_dir, name)  # a missing or malformed file is reported with its name and line
    env = template_env(Path(rules_dir))
    source, _, _ = env.loader.get_source(env, template_path(name))  # type: ignore[union-attr]  # template_env always sets a loader
    return _parts(source, name)


def _render_part(rules_dir: Path, name: str, source: str, context: Mapping[str, Any]) -> str:
    try:
        return render_template(compiled(template_env(Path(rules_dir)), source), template_path(name), context)
    except jinja2.TemplateSyntaxError as exc:
        raise LetterError(f"template {name!r}, line {exc.lineno}: {exc.message}") from None
    except LetterError as exc:
        # Raised by a helper inside the template (year_list): say which template asked.
        raise LetterError(f"template {name!r}: {exc}") from None
    except TemplateError as exc:
        missing = missing_variables(rules_dir, template_path(name), context) if "undefined" in str(exc) else []
        if missing:
            flags = " ".join(f"--var {v}=..." for v in missing)
            raise LetterError(f"template {name!r} needs variable(s) {', '.join(missing)}; pass {flags}") from None
        if "not found" in str(exc):
            raise LetterError(_not_found(rules_dir, name)) from None
        raise LetterError(str(exc)) from None


def _check_jurisdiction(parts: LetterTemplate, name: str, agency: AgencyInfo) -> None:
    """The guard is read from the template's own text before anything is rendered: no variable can move it."""
    allowed = " ".join((parts.header_source("jurisdictions") or "*").split())
    if allowed != "*" and agency.jurisdiction not in {j.strip().upper() for j in allowed.split(",")}:
        raise LetterError(
            f"template {name!r} is for jurisdiction(s) {allowed}; {agency.name} is in {agency.jurisdiction}"
        )


def render_letter(
    rules_dir: Path,
    template: str,
    *,
    agency: AgencyInfo,
    variables: Mapping[str, Any],
    identity: IdentitySettings,
    reference: str,
    filed_on: dt.date,
    book: StatuteBook | None = None,
) -> Letter:
    """Render one letter for one agency; any problem is a LetterError saying what to fix.

    The subject and the body are rendered separately from parts cut out of the template's source, so a
    variable is always a value: it cannot end the header block, add a header or unset the jurisdiction guard.
    """
    name = template_name(template)
    parts = letter_template(rules_dir, name)
    if parts.header_source("subject") is None:
        raise LetterError(f"template {name!r}: no `Subject:` header line at the top")
    env = template_env(Path(rules_dir))
    in_headers = frozenset().union(*(header_variables(env, parts, key) for key, _ in parts.headers))
    try:
        values = check_variables(variables, reserved=RESERVED, header_names=in_headers)
    except VariableError as exc:
        raise LetterError(str(exc)) from None
    _check_jurisdiction(parts, name, agency)
    book = book or load_statute_book(rules_dir)
    statute, deadline = book.deadline(agency.jurisdiction, filed_on)
    context: dict[str, Any] = {
        **values,
        "agency": agency,
        "statute": statute,
        "deadline": _deadline_view(statute, deadline),
        "requester": {
            "name": identity.name,
            "address": identity.address,
            "signature": identity.signature or identity.name,
        },
        "reference": reference,
        "filed_on": filed_on,
        "year_list": year_list,
    }
    body = _render_part(rules_dir, name, parts.body, context).strip("\n") + "\n"
    subject_source = parts.preamble + (parts.header_source("subject") or "")
    try:
        subject = header_text("Subject", _render_part(rules_dir, name, subject_source, context))
    except VariableError as exc:
        raise LetterError(f"template {name!r}: {exc}") from None
    if not subject:
        raise LetterError(f"template {name!r}: the subject is empty")
    return Letter(
        template=name,
        subject=subject,
        body=body,
        jurisdiction=agency.jurisdiction,
        citation=statute.citation,
        due=deadline.due,
        extended_due=deadline.extended_due,
    )
