"""What a link is (records portal, file share, sign-in page, unsubscribe, tracker), by the rules in rules/links.toml.

Pure: the same URL and rules give the same kind, so `agent reprocess`-style reruns and tests agree."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agent.links.unwrap import Unwrapped
from agent.links.urls import BadUrl, host_matches, parse
from agent.pipeline.rules import RulesError, compile_pattern, load_toml, require
from agent.resources import bundled_rules

FILE_NAME = "links.toml"
RECORDS_PORTAL = "records_portal"
FILE_SHARE = "file_share"
LOGIN = "login"
UNSUBSCRIBE = "unsubscribe"
TRACKING = "tracking"
OTHER = "other"
KINDS = (RECORDS_PORTAL, FILE_SHARE, LOGIN, UNSUBSCRIBE, TRACKING, OTHER)
# Recorded, never fetched: fetching an unsubscribe link unsubscribes, a tracker reports us, a sign-in page is no file.
NEVER_FETCHED = frozenset({LOGIN, UNSUBSCRIBE, TRACKING})


@dataclass(frozen=True)
class KindRule:
    id: str
    kind: str
    hosts: tuple[str, ...] = ()
    path: re.Pattern[str] | None = None

    def matches(self, host: str, target: str) -> bool:
        if self.hosts and not host_matches(host, self.hosts):
            return False
        return self.path is None or self.path.search(target) is not None


@dataclass(frozen=True)
class LinkRules:
    rules: tuple[KindRule, ...]


def load_link_rules(rules_dir: Path) -> LinkRules:
    """rules_dir/links.toml, else the bundled one (a rules folder copied before this file existed lacks it)."""
    path = rules_dir / FILE_NAME
    if not path.is_file():
        path = bundled_rules() / FILE_NAME
    return parse_link_rules(load_toml(path), path)


def parse_link_rules(data: dict[str, Any], path: Path) -> LinkRules:
    raw = data.get("rule")
    if not isinstance(raw, list) or not raw:
        raise RulesError(path, "rule", "expected a non-empty array of [[rule]] tables")
    seen: set[str] = set()
    out: list[KindRule] = []
    for n, table in enumerate(raw):
        if not isinstance(table, dict):
            raise RulesError(path, f"rule[{n}]", "expected a table")
        rule_id = require(table, "id", str, path, f"rule[{n}]")
        key = f"rule[{rule_id}]"
        if rule_id in seen:
            raise RulesError(path, key, "duplicate id")
        seen.add(rule_id)
        unknown = set(table) - {"id", "kind", "hosts", "path"}
        if unknown:
            raise RulesError(path, f"{key}.{sorted(unknown)[0]}", "unknown key")
        kind = require(table, "kind", str, path, key)
        if kind not in KINDS:
            raise RulesError(path, f"{key}.kind", f"unknown kind {kind!r} (one of {', '.join(KINDS)})")
        hosts = table.get("hosts", [])
        if not isinstance(hosts, list) or not all(isinstance(h, str) and h and "/" not in h for h in hosts):
            raise RulesError(path, f"{key}.hosts", "expected a list of host names")
        pattern = compile_pattern(table["path"], path, f"{key}.path", re.I) if "path" in table else None
        if not hosts and pattern is None:
            raise RulesError(path, key, "give `hosts`, `path` or both")
        out.append(KindRule(rule_id, kind, tuple(h.lower() for h in hosts), pattern))
    return LinkRules(tuple(out))


def link_kind(link: Unwrapped, rules: LinkRules) -> str:
    """The first matching rule's kind, judged on the unwrapped target; a still-wrapped link is "other"."""
    if link.wrapped:
        return OTHER
    try:
        url = parse(link.url)
    except BadUrl:
        return OTHER
    for rule in rules.rules:
        if rule.matches(url.host, url.target):
            return rule.kind
    return OTHER
