"""Unwrapping gateway rewrites and sorting links by kind: tables of real-shaped links."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.links.kinds import load_link_rules, link_kind, parse_link_rules
from agent.links.unwrap import MIMECAST, PROOFPOINT, SAFELINKS, unwrap
from agent.links.urls import BadUrl, parse
from agent.pipeline.rules import RulesError, load_toml
from support.shared import REPO, SEEDS

RULES = load_link_rules(REPO / "rules")


@pytest.mark.parametrize(
    ("wrapped", "target", "wrappers"),
    [
        ("https://nam12.safelinks.protection.outlook.com/?url=https%3A%2F%2Fapp.box.com%2Fs%2Fabc123%3Fdl%3D1"
         "&data=05%7C01%7Cclerk%40city.gov%7C&sdata=xyz%3D&reserved=0",
         "https://app.box.com/s/abc123?dl=1", (SAFELINKS,)),
        ("https://urldefense.proofpoint.com/v1/url?u=https://www.dropbox.com/s/q1/a.pdf&k=abc%3D%0A&r=x&m=y&s=z",
         "https://www.dropbox.com/s/q1/a.pdf", (PROOFPOINT,)),
        ("https://urldefense.proofpoint.com/v2/url?u=https-3A__www.dropbox.com_s_abc_records-2D2025.pdf-3Fdl-3D1"
         "&d=DwMFaQ&c=euGZstcaTDllvimEN8b7jXrwqOf-v5A_CdpgnVfiiMM&r=abc&m=def&s=ghi&e=",
         "https://www.dropbox.com/s/abc/records-2025.pdf?dl=1", (PROOFPOINT,)),
        ("https://urldefense.com/v3/__https://www.example.com/__;!!Abc!def$", "https://www.example.com/", (PROOFPOINT,)),
        # "?" travels base64-encoded ("Pw"), a run "**A" of two characters ("&&" -> "JiY")
        ("https://urldefense.com/v3/__https://city.nextrequest.com/documents/9*download=1**Ax__;PyYm!!K0!aB$",
         "https://city.nextrequest.com/documents/9?download=1&&x", (PROOFPOINT,)),
        # Safe Links around Proofpoint: both layers come off, outermost named first.
        ("https://eur01.safelinks.protection.outlook.com/?url=https%3A%2F%2Furldefense.proofpoint.com%2Fv2%2Furl"
         "%3Fu%3Dhttps-3A__app.box.com_s_zz9%26d%3DDw",
         "https://app.box.com/s/zz9", (SAFELINKS, PROOFPOINT)),
        ("https://app.box.com/s/plain", "https://app.box.com/s/plain", ()),
    ],
)
def test_wrappers_come_off(wrapped: str, target: str, wrappers: tuple[str, ...]) -> None:
    got = unwrap(wrapped)
    assert got.url == target and got.wrappers == wrappers and not got.wrapped
    assert got.original == wrapped


@pytest.mark.parametrize(
    "url",
    [
        "https://protect-us.mimecast.com/s/AbCdEfGhIjK?domain=app.box.com",
        "https://protect-eu.mimecast.com/s/Zy9X?domain=dropbox.com",
        "https://nam12.safelinks.protection.outlook.com/?data=05%7C01",  # no url= to read
        "https://urldefense.com/v3/__https://x.example/*__;!!broken",  # the replaced bytes are missing
    ],
)
def test_links_that_cannot_be_opened_offline_stay_wrapped(url: str) -> None:
    got = unwrap(url)
    assert got.wrapped and got.url == url
    assert link_kind(got, RULES) == "other"


def test_mimecast_is_named() -> None:
    assert unwrap("https://protect-us.mimecast.com/s/AbC?domain=box.com").wrappers == (MIMECAST,)


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("https://email.customerportal.help/c/eJwkyjtuxCAQANDTQGcLBrCHgiKN62hzgmUYx9Zi4fBZKbdPkf6l4NjHlCQHvRpvtAKL8gied7urlZbkLXqF9GRn2O1RxRTJoDwDKHAKtAZtrcLZ", "tracking"),
        ("https://u123.ct.sendgrid.net/ls/click?upn=abc", "tracking"),
        ("https://www.city.gov/track/open.gif?id=1", "tracking"),
        ("https://us1.list-manage.com/unsubscribe?u=a&id=b", "unsubscribe"),
        ("https://www.city.gov/newsletter/optout?x=1", "unsubscribe"),
        ("https://app.box.com/notifications/unsubscribe?t=1", "unsubscribe"),
        ("https://beverlyhills.nextrequest.com/requests/25-191", "records_portal"),
        ("https://beverlyhills.nextrequest.com/users/sign_in", "login"),
        ("https://cityofx.govqa.us/WEBAPP/_rs/(S(abc))/supporthome.aspx", "records_portal"),
        ("https://cityofx.mycusthelp.com/WEBAPP/_rs/Login.aspx", "login"),
        ("https://cityx.justfoia.com/publicportal/home/track", "records_portal"),
        ("https://login.microsoftonline.com/common/oauth2/authorize?client_id=x", "login"),
        ("https://accounts.google.com/ServiceLogin?continue=https://drive.google.com", "login"),
        ("https://app.box.com/s/abc123", "file_share"),
        ("https://www.dropbox.com/scl/fi/xyz/records.zip?rlkey=abc&dl=0", "file_share"),
        ("https://drive.google.com/file/d/1AbC/view?usp=sharing", "file_share"),
        ("https://cityx.sharepoint.com/:f:/s/Clerk/EabcXYZ", "file_share"),
        ("https://cityx-my.sharepoint.com/:b:/g/personal/clerk/EQ1", "file_share"),
        ("https://1drv.ms/f/s!AbC", "file_share"),
        ("https://www.city.gov/files/records.pdf", "file_share"),
        ("https://www.city.gov/files/Records.XLSX?v=2", "file_share"),
        ("https://www.city.gov/news", "other"),
        ("https://evilbox.com/s/abc", "other"),  # "box.com" is a domain, not a suffix of letters
        ("https://nam12.safelinks.protection.outlook.com/?url=https%3A%2F%2Fapp.box.com%2Fs%2Fq", "file_share"),
    ],
)
def test_link_kinds(url: str, kind: str) -> None:
    assert link_kind(unwrap(url), RULES) == kind


def test_the_seed_threads_portal_links_are_trackers_not_records() -> None:
    from agent.pipeline.extract import links

    text = (SEEDS / "000_3ef46691680ddf15.txt").read_text(encoding="utf-8")
    found = links(text)
    assert found, "the seed thread carries links"
    kinds = {link_kind(unwrap(u), RULES) for u in found if "customerportal.help" in u}
    assert kinds == {"tracking"}


@pytest.mark.parametrize(
    "url",
    ["https://box.com\\@evil.example/", "https://user:pw@app.box.com/s/1", "ftp://app.box.com/x", "https:///nohost",
     "https://app.box.com/a b", "https://app.box.com:99999/"],
)
def test_ambiguous_or_foreign_urls_are_refused(url: str) -> None:
    with pytest.raises(BadUrl):
        parse(url)


def test_url_reading_normalises_host_and_drops_the_fragment() -> None:
    got = parse("HTTPS://App.Box.COM./s/abc?x=1#frag")
    assert (got.scheme, got.host, got.path, got.query) == ("https", "app.box.com", "/s/abc", "x=1")
    assert got.text == "https://app.box.com/s/abc?x=1"


@pytest.mark.parametrize(
    ("text", "key", "problem"),
    [
        ('[[rule]]\nid = "a"\nkind = "secret"\nhosts = ["x.com"]\n', "rule[a].kind", "unknown kind"),
        ('[[rule]]\nid = "a"\nkind = "login"\npath = "(unclosed"\n', "rule[a].path", "bad regex"),
        ('[[rule]]\nid = "a"\nkind = "login"\n', "rule[a]", "give `hosts`, `path` or both"),
        ('[[rule]]\nid = "a"\nkind = "login"\nhosts = ["x.com"]\n[[rule]]\nid = "a"\nkind = "login"\nhosts = ["y"]\n',
         "rule[a]", "duplicate id"),
        ('[[rule]]\nid = "a"\nkind = "login"\nhost = ["x.com"]\n', "rule[a].host", "unknown key"),
        ('[[rule]]\nid = "a"\nkind = "login"\nhosts = ["https://x.com/"]\n', "rule[a].hosts", "host names"),
        ("title = 1\n", "rule", "non-empty array"),
    ],
)
def test_bad_link_rules_name_file_and_key(tmp_path: Path, text: str, key: str, problem: str) -> None:
    path = tmp_path / "links.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RulesError) as info:
        load_link_rules(tmp_path)
    message = str(info.value)
    assert "links.toml" in message and key in message and problem in message


def test_a_rules_folder_without_links_toml_uses_the_bundled_rules(tmp_path: Path) -> None:
    assert load_link_rules(tmp_path) == parse_link_rules(load_toml(REPO / "rules" / "links.toml"), REPO / "rules" / "links.toml")
