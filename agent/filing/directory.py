"""The agency directory: validated CSV rows written in one transaction, so an import is all or nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from agent.db.models import Agency
from agent.filing.agency_csv import (  # noqa: F401  (re-exported: the directory's public API)
    AgencyRow,
    DirectoryError,
    RowProblem,
    known_jurisdictions,
    parse_agency_csv,
    read_agency_file,
)


@dataclass(frozen=True)
class ImportReport:
    created: tuple[str, ...]
    updated: tuple[str, ...]
    unchanged: tuple[str, ...]

    @property
    def total(self) -> int:
        return len(self.created) + len(self.updated) + len(self.unchanged)


def _fields(row: AgencyRow) -> dict[str, object]:
    return {
        "jurisdiction": row.jurisdiction,
        "emails": list(row.emails),
        "domains": list(row.domains),
        "portal_url": row.portal_url,
        "portal": row.portal,
        "tracking_patterns": list(row.tracking_patterns),
    }


def upsert_agencies(
    session: Session, rows: Iterable[AgencyRow], *, on_row: Callable[[AgencyRow], None] | None = None
) -> ImportReport:
    """Create or update agencies by name in the caller's transaction."""
    rows = list(rows)
    existing: dict[str, Agency] = {}
    names = [row.name for row in rows]
    for start in range(0, len(names), 500):
        for known in session.scalars(select(Agency).where(Agency.name.in_(names[start : start + 500]))):
            existing[known.name] = known
    created: list[str] = []
    updated: list[str] = []
    unchanged: list[str] = []
    for row in rows:
        fields = _fields(row)
        agency = existing.get(row.name)
        if agency is None:
            session.add(Agency(name=row.name, **fields))
            created.append(row.name)
        elif all(getattr(agency, key) == value for key, value in fields.items()):
            unchanged.append(row.name)
        else:
            for key, value in fields.items():
                setattr(agency, key, value)
            updated.append(row.name)
        if on_row is not None:
            on_row(row)
    session.flush()
    return ImportReport(tuple(created), tuple(updated), tuple(unchanged))


def import_agency_file(
    sessions: sessionmaker[Session],
    path: Path,
    *,
    rules_dir: Path | None,
    on_row: Callable[[AgencyRow], None] | None = None,
) -> ImportReport:
    """Validate the whole file, then write it in one transaction: a failure leaves the directory as it was."""
    rows = read_agency_file(path, rules_dir=rules_dir)
    with sessions.begin() as session:
        return upsert_agencies(session, rows, on_row=on_row)


def find_agency(session: Session, name: str) -> Agency | None:
    """Exact name first, then a case-insensitive match, so `agency show "beverly hills pd"` works."""
    agency = session.scalar(select(Agency).where(Agency.name == name))
    if agency is not None:
        return agency
    matches = [a for a in session.scalars(select(Agency)) if a.name.casefold() == name.casefold()]
    return matches[0] if len(matches) == 1 else None
