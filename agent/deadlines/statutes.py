"""Statutes as data: read rules/statutes/*.toml into frozen records, refusing any file that is wrong."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast

from agent.resources import bundled_rules

DayType = Literal["calendar", "business"]
ClockStart = Literal["received", "sent"]
Roll = Literal["next_business_day", "none"]
# What our answer to an agency's clarification question does to its clock (see agent.deadlines.clarified).
Clarified = Literal["restart", "toll", "unchanged"]

DAY_TYPES: tuple[str, ...] = ("calendar", "business")
CLOCK_STARTS: tuple[str, ...] = ("received", "sent")
ROLLS: tuple[str, ...] = ("next_business_day", "none")
CLARIFIED: tuple[str, ...] = ("restart", "toll", "unchanged")

STATES = (
    "AL AK AZ AR CA CO CT DE FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO "
    "MT NE NV NH NJ NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY"
).split()
# Every jurisdiction we file in must have a statute; a missing one is a start-up error, not a runtime surprise.
JURISDICTIONS: tuple[str, ...] = ("US", *STATES, "DC")

# Files in the statutes folder that are not jurisdictions.
DEFAULTS_FILE = "defaults.toml"
RESERVED_FILES = frozenset({DEFAULTS_FILE, "calendar.toml"})



class StatuteError(Exception):
    """A statute file is malformed; the message names the file and the key."""


@dataclass(frozen=True)
class Extension:
    days: int
    day_type: DayType
    requires: str
    citation: str


@dataclass(frozen=True)
class Appeal:
    """The administrative appeal (or review) the law gives after a denial; `exists = False` says there is none.

    0 days means the law fixes no number: no window to remind about, or no deadline to chase the body by."""

    exists: bool
    to_whom: str = ""
    days_to_appeal: int = 0
    day_type: DayType = "calendar"
    body_days: int = 0
    body_day_type: DayType = "business"
    citation: str = ""
    verified: bool = False
    note: str = ""
    source: str = ""
    # False when the appeal is filed with another body (a commission, the Attorney General): it cannot go
    # in the agency's thread, so the agent drafts it and the operator files it there.
    in_thread: bool = True


# A statute file without an [appeal] table: nothing is known, so nothing is offered and the reason says so.
NO_APPEAL_DATA = Appeal(exists=False, verified=False, note="the statute file has no [appeal] table")


@dataclass(frozen=True)
class Statute:
    id: str
    name: str
    citation: str
    days: int
    day_type: DayType
    clock_starts: ClockStart
    roll: Roll
    extension: Extension
    clarification: Clarified = "unchanged"
    vague: bool = False
    verified: bool = True
    note: str = ""
    source: str = ""
    appeal: Appeal = NO_APPEAL_DATA


@dataclass(frozen=True)
class Defaults:
    """What a 'promptly' or 'reasonable time' statute is measured against."""

    vague_default_days: int = 10
    vague_default_day_type: DayType = "business"


def statute_dir(rules_path: Path | None = None) -> Path:
    """The statutes folder inside the configured rules folder."""
    return (rules_path if rules_path is not None else bundled_rules()) / "statutes"


# (key, type, required) for each table; bool is checked apart because bool is a subclass of int.
_TOP: dict[str, tuple[type, bool]] = {
    "id": (str, True),
    "name": (str, True),
    "citation": (str, True),
    "days": (int, True),
    "day_type": (str, True),
    "clock_starts": (str, True),
    "roll": (str, True),
    "extension": (dict, True),
    "clarification": (str, False),
    "vague": (bool, False),
    "verified": (bool, False),
    "note": (str, False),
    "source": (str, False),
    "appeal": (dict, False),
}
_APPEAL: dict[str, tuple[type, bool]] = {
    "exists": (bool, True),
    "to_whom": (str, False),
    "days_to_appeal": (int, False),
    "day_type": (str, False),
    "body_days": (int, False),
    "body_day_type": (str, False),
    "citation": (str, False),
    "verified": (bool, True),
    "note": (str, False),
    "source": (str, False),
    "in_thread": (bool, False),
}
_EXTENSION: dict[str, tuple[type, bool]] = {
    "days": (int, True),
    "day_type": (str, True),
    "requires": (str, True),
    "citation": (str, True),
}
_ENUMS: dict[str, tuple[str, ...]] = {
    "day_type": DAY_TYPES, "body_day_type": DAY_TYPES, "clock_starts": CLOCK_STARTS, "roll": ROLLS,
    "clarification": CLARIFIED,
}


def _check_table(
    table: dict[str, Any], schema: dict[str, tuple[type, bool]], where: str, prefix: str, optional: frozenset[str]
) -> None:
    for key in table:
        if key not in schema:
            raise StatuteError(f"{where}: unknown key `{prefix}{key}`")
    for key, (kind, required) in schema.items():
        if key not in table:
            if required and key not in optional:
                raise StatuteError(f"{where}: missing key `{prefix}{key}`")
            continue
        value = table[key]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise StatuteError(f"{where}: `{prefix}{key}` must be {kind.__name__}, got {type(value).__name__}")
        if key in _ENUMS and value not in _ENUMS[key]:
            raise StatuteError(f"{where}: `{prefix}{key}` = {value!r}; expected one of {', '.join(_ENUMS[key])}")
        if isinstance(value, int) and kind is int and value < 0:
            raise StatuteError(f"{where}: `{prefix}{key}` must not be negative")


def parse_statute(data: dict[str, Any], where: str, defaults: Defaults) -> Statute:
    """Validate one decoded TOML document; `where` names the file in error messages."""
    vague = data.get("vague", False)
    # A vague statute may leave out days/day_type: the configured default then applies.
    optional = frozenset({"days", "day_type"}) if vague is True else frozenset()
    _check_table(data, _TOP, where, "", optional)
    ext = data["extension"]
    _check_table(ext, _EXTENSION, where, "extension.", frozenset())
    appeal = parse_appeal(data["appeal"], where) if "appeal" in data else NO_APPEAL_DATA
    days = data.get("days", defaults.vague_default_days)
    if days == 0 and not vague:
        raise StatuteError(f"{where}: `days` is 0; a statute without fixed days should set vague = true")
    return Statute(
        id=data["id"],
        name=data["name"],
        citation=data["citation"],
        days=days,
        day_type=cast(DayType, data.get("day_type", defaults.vague_default_day_type)),
        clock_starts=cast(ClockStart, data["clock_starts"]),
        roll=cast(Roll, data["roll"]),
        extension=Extension(
            days=ext["days"],
            day_type=cast(DayType, ext["day_type"]),
            requires=ext["requires"],
            citation=ext["citation"],
        ),
        clarification=cast(Clarified, data.get("clarification", "unchanged")),
        vague=vague,
        verified=data.get("verified", True),
        note=data.get("note", ""),
        source=data.get("source", ""),
        appeal=appeal,
    )


def parse_appeal(table: dict[str, Any], where: str) -> Appeal:
    """Validate the [appeal] table: an appeal that exists must say to whom and under which section."""
    _check_table(table, _APPEAL, where, "appeal.", frozenset())
    exists = table["exists"]
    if exists:
        for key in ("to_whom", "citation"):
            if not table.get(key):
                raise StatuteError(f"{where}: `appeal.{key}` is required when `appeal.exists` = true")
    elif not table.get("note"):
        raise StatuteError(f"{where}: `appeal.note` must say why there is no appeal (what the requester can do)")
    return Appeal(
        exists=exists,
        to_whom=table.get("to_whom", ""),
        days_to_appeal=table.get("days_to_appeal", 0),
        day_type=cast(DayType, table.get("day_type", "calendar")),
        body_days=table.get("body_days", 0),
        body_day_type=cast(DayType, table.get("body_day_type", "business")),
        citation=table.get("citation", ""),
        verified=table["verified"],
        note=table.get("note", ""),
        source=table.get("source", ""),
        in_thread=table.get("in_thread", True),
    )


def _read(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise StatuteError(f"{path}: not valid TOML: {exc}") from exc


def load_defaults(directory: Path) -> Defaults:
    path = directory / DEFAULTS_FILE
    if not path.is_file():
        return Defaults()
    data = _read(path)
    for key in data:
        if key not in ("vague_default_days", "vague_default_day_type"):
            raise StatuteError(f"{path}: unknown key `{key}`")
    days = data.get("vague_default_days", Defaults.vague_default_days)
    if not isinstance(days, int) or isinstance(days, bool) or days <= 0:
        raise StatuteError(f"{path}: `vague_default_days` must be a positive integer")
    day_type = data.get("vague_default_day_type", Defaults.vague_default_day_type)
    if day_type not in DAY_TYPES:
        raise StatuteError(f"{path}: `vague_default_day_type` = {day_type!r}; expected one of {', '.join(DAY_TYPES)}")
    return Defaults(vague_default_days=days, vague_default_day_type=cast(DayType, day_type))


def load_statutes(directory: Path) -> dict[str, Statute]:
    """Every jurisdiction's statute, keyed by id; raises StatuteError on the first problem found."""
    if not directory.is_dir():
        raise StatuteError(f"{directory}: statutes folder not found")
    defaults = load_defaults(directory)
    statutes: dict[str, Statute] = {}
    for path in sorted(directory.glob("*.toml")):
        if path.name in RESERVED_FILES:
            continue
        statute = parse_statute(_read(path), str(path), defaults)
        if statute.id != path.stem:
            raise StatuteError(f"{path}: `id` = {statute.id!r} does not match the file name {path.stem!r}")
        if statute.id not in JURISDICTIONS:
            raise StatuteError(f"{path}: `id` = {statute.id!r} is not a known jurisdiction")
        if statute.id in statutes:
            raise StatuteError(f"{path}: duplicate `id` {statute.id!r}")
        statutes[statute.id] = statute
    missing = [j for j in JURISDICTIONS if j not in statutes]
    if missing:
        raise StatuteError(f"{directory}: no statute file for {', '.join(missing)} (expected <ID>.toml)")
    # US first, the states in alphabetical order of their names, then DC: the order people scan a list in.
    return {j: statutes[j] for j in JURISDICTIONS}
