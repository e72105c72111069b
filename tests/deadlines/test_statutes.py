"""The statute files load, and every kind of mistake in one is refused with the file and key named."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from agent.deadlines.statutes import JURISDICTIONS, StatuteError, load_statutes, statute_dir

SHIPPED = statute_dir(Path(__file__).resolve().parents[2] / "rules")


def test_all_52_load(statutes):
    assert len(JURISDICTIONS) == 52
    assert sorted(statutes) == sorted(JURISDICTIONS)


def test_required_facts(statutes):
    ca, us = statutes["CA"], statutes["US"]
    assert (ca.days, ca.day_type, ca.extension.days, ca.extension.day_type) == (10, "calendar", 14, "calendar")
    assert "7922.535" in ca.citation and ca.clock_starts == "received"
    assert (us.days, us.day_type, us.extension.days, us.extension.day_type) == (20, "business", 10, "business")
    assert us.citation == "5 U.S.C. § 552(a)(6)(A)(i)" and "552(a)(6)(B)(i)" in us.extension.citation


def test_every_entry_cites_a_source(statutes):
    for s in statutes.values():
        assert s.source and s.citation, s.id
        if s.vague or not s.verified:
            assert s.note, f"{s.id}: vague or unverified entries must explain themselves in `note`"


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    """A writable copy of the shipped statutes to break."""
    target = tmp_path / "statutes"
    shutil.copytree(SHIPPED, target)
    return target


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("days = 10\n", "days = 10\nweeks = 2\n", "unknown key `weeks`"),
        ("days = 10\n", 'days = "10"\n', "`days` must be int"),
        ("days = 10\n", "days = true\n", "`days` must be int"),
        ('day_type = "calendar"\n', 'day_type = "lunar"\n', "`day_type` = 'lunar'"),
        ('roll = "next_business_day"', 'roll = "backwards"', "`roll` = 'backwards'"),
        ('clock_starts = "received"', 'clock_starts = "whenever"', "`clock_starts`"),
        ('id = "CA"', 'id = "NV"', "does not match the file name"),
        ("[extension]\ndays = 14", "[extension]\ndays = 14\nhours = 3", "unknown key `extension.hours`"),
        ("[extension]\ndays = 14", "[extension]\ndays = -1", "`extension.days` must not be negative"),
        ('requires = "written', 'require = "written', "unknown key `extension.require`"),
        ('name = "California Public Records Act"\n', "", "missing key `name`"),
        ("verified = true", "verified = 1", "`verified` must be bool"),
        ("days = 10\n", "days = 10 = 1\n", "not valid TOML"),
    ],
)
def test_schema_errors_name_file_and_key(copy: Path, old: str, new: str, message: str):
    _edit(copy / "CA.toml", old, new)
    with pytest.raises(StatuteError) as info:
        load_statutes(copy)
    assert message in str(info.value)
    assert "CA.toml" in str(info.value)


def test_missing_jurisdiction(copy: Path):
    (copy / "WY.toml").unlink()
    with pytest.raises(StatuteError, match="no statute file for WY"):
        load_statutes(copy)


def test_unknown_jurisdiction(copy: Path):
    text = (copy / "CA.toml").read_text(encoding="utf-8").replace('id = "CA"', 'id = "XX"')
    (copy / "XX.toml").write_text(text, encoding="utf-8")
    with pytest.raises(StatuteError, match="XX.toml.*not a known jurisdiction"):
        load_statutes(copy)


def test_lowercase_file_is_a_mismatch(copy: Path):
    (copy / "CA.toml").rename(copy / "ca.toml")
    with pytest.raises(StatuteError, match="does not match the file name"):
        load_statutes(copy)


def test_fixed_days_of_zero_need_vague(copy: Path):
    _edit(copy / "CA.toml", "days = 10\n", "days = 0\n")
    with pytest.raises(StatuteError, match="set vague = true"):
        load_statutes(copy)


def test_vague_statute_may_take_days_from_defaults(copy: Path, statutes):
    vague_id = next(s.id for s in statutes.values() if s.vague)
    path = copy / f"{vague_id}.toml"
    lines = [ln for ln in path.read_text(encoding="utf-8").splitlines() if not ln.startswith(("days =", "day_type ="))]
    # Drop only the top-level keys; the [extension] table keeps its own.
    head, _, tail = "\n".join(lines).partition("[extension]")
    ext = (copy / "CA.toml").read_text(encoding="utf-8").partition("[extension]")[2]
    path.write_text(head + "[extension]" + ext, encoding="utf-8")
    (copy / "defaults.toml").write_text('vague_default_days = 7\nvague_default_day_type = "calendar"\n')
    s = load_statutes(copy)[vague_id]
    assert (s.days, s.day_type) == (7, "calendar")


def test_bad_defaults_file(copy: Path):
    (copy / "defaults.toml").write_text("vague_default_days = 0\n")
    with pytest.raises(StatuteError, match="defaults.toml.*positive"):
        load_statutes(copy)


def test_missing_folder(tmp_path: Path):
    with pytest.raises(StatuteError, match="not found"):
        load_statutes(tmp_path / "nope")
