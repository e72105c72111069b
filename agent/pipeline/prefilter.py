"""Literal prefilters for regexes: skip a pattern cheaply when a word it needs is missing from the text."""

from __future__ import annotations

import re
from typing import Any, TypeGuard

try:  # Python 3.11+ keeps the regex parser here; older versions call it sre_parse.
    import re._parser as _parser  # type: ignore[import-not-found]
    from re import _constants as _c  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover
    import sre_constants as _c
    import sre_parse as _parser

# Sets larger than this stop being cheap to check; strings shorter than this filter almost nothing.
MAX_SET = 48
MIN_USEFUL = 3
MAX_CLAUSES = 4

Strings = frozenset[str]
# A requirement is a conjunction of clauses; a clause is a set of strings, one of which a match contains.
Clauses = tuple[Strings, ...]


def _useful(clause: Strings | None) -> TypeGuard[Strings]:
    return clause is not None and bool(clause) and "" not in clause and min(map(len, clause)) >= MIN_USEFUL


def _best(clauses: Clauses) -> Strings | None:
    useful = [c for c in clauses if _useful(c)]
    return max(useful, key=lambda c: min(map(len, c))) if useful else None


def _sequence(items: Any) -> tuple[Strings | None, Clauses]:
    """(the exact strings the sequence can match, or None; the clauses every match satisfies)."""
    current: Strings | None = frozenset({""})
    exact_whole = True
    clauses: list[Strings] = []
    for item in items:
        exact, required = _node(*item)
        if exact is not None and current is not None and len(current) * len(exact) <= MAX_SET:
            current = frozenset(a + b for a in current for b in exact)
            continue
        exact_whole = False
        if _useful(current):
            clauses.append(current)
        clauses.extend(required)
        current = exact if exact is not None and len(exact) <= MAX_SET else frozenset({""})
    if _useful(current):
        clauses.append(current)
    return (current if exact_whole else None), tuple(clauses)


def _node(op: Any, arg: Any) -> tuple[Strings | None, Clauses]:
    if op is _c.LITERAL:
        return frozenset({chr(arg).lower()}), ()
    if op in (_c.AT, _c.ASSERT, _c.ASSERT_NOT):
        return frozenset({""}), ()  # zero-width: consumes nothing, requires nothing
    if op is _c.SUBPATTERN:
        return _sequence(arg[-1])
    if op is getattr(_c, "ATOMIC_GROUP", object()):
        return _sequence(arg)
    if op is _c.IN:
        if len(arg) <= 6 and all(kind is _c.LITERAL for kind, _ in arg):
            return frozenset(chr(v).lower() for _, v in arg), ()
        return None, ()
    if op is _c.BRANCH:
        exacts: set[str] = set()
        union: set[str] = set()
        exact_ok = union_ok = True
        for alternative in arg[1]:
            exact, clauses = _sequence(alternative)
            if exact is None:
                exact_ok = False
            else:
                exacts |= exact
            best = _best(clauses + ((exact,) if exact is not None else ()))
            if best is None:
                union_ok = False
            else:
                union |= best
        exact_set = frozenset(exacts) if exact_ok and len(exacts) <= MAX_SET else None
        return exact_set, ((frozenset(union),) if union_ok and union else ())
    if op in (_c.MAX_REPEAT, _c.MIN_REPEAT, getattr(_c, "POSSESSIVE_REPEAT", object())):
        low, high, item = arg
        exact, clauses = _sequence(item)
        if low == high == 1:
            return exact, clauses
        if low == 0 and high == 1:
            return (exact | {""} if exact is not None else None), ()
        if low >= 1:
            return None, clauses + ((exact,) if _useful(exact) else ())
        return None, ()
    return None, ()


def required_literals(pattern: re.Pattern[str]) -> Clauses | None:
    """Lower-case clauses every match satisfies (each: one of its strings is in the text), or None."""
    try:
        tree = _parser.parse(pattern.pattern, pattern.flags)
    except Exception:  # the parser is internal; if it changes, every regex simply runs
        return None
    exact, clauses = _sequence(list(tree))
    useful = [c for c in clauses + ((exact,) if exact is not None else ()) if _useful(c)]
    if not useful:
        return None
    # The longest-word clauses are usually the rarest: check a few of them, cheapest first.
    useful.sort(key=lambda c: -min(map(len, c)))
    return tuple(sorted(dict.fromkeys(useful[:MAX_CLAUSES]), key=len))


def may_match(clauses: Clauses | None, lowered: str) -> bool:
    """False only when the regex cannot match: some clause has none of its strings in the text."""
    if clauses is None:
        return True
    # Plain loops: this runs for every pattern of every message, and generator overhead shows.
    for clause in clauses:
        for word in clause:
            if word in lowered:
                break
        else:
            return False
    return True


def _has_upper(items: Any) -> bool:
    for op, arg in items:
        if op is _c.LITERAL and chr(arg) != chr(arg).lower():
            return True
        if op is _c.IN:
            for kind, value in arg:
                if kind is _c.LITERAL and chr(value) != chr(value).lower():
                    return True
                if kind is _c.RANGE and any(chr(v) != chr(v).lower() for v in range(value[0], value[1] + 1)):
                    return True
        elif op is _c.SUBPATTERN and _has_upper(arg[-1]):
            return True
        elif op is _c.BRANCH and any(_has_upper(alt) for alt in arg[1]):
            return True
        elif op in (_c.MAX_REPEAT, _c.MIN_REPEAT) and _has_upper(arg[2]):
            return True
        elif op in (_c.ASSERT, _c.ASSERT_NOT) and _has_upper(arg[1]):
            return True
    return False


def _is_word(char: str) -> bool:
    return char.isalnum() or char == "_"


class FastPattern:
    """A case-insensitive rule regex run on lower-cased text, without IGNORECASE and without a leading \\b.

    Python's regex engine can only skip ahead quickly when a pattern starts with known characters and is
    case-sensitive; a leading \\b and IGNORECASE both turn that off. We drop them and check the word
    boundary by hand, which keeps the meaning and makes a scan several times faster.
    """

    __slots__ = ("source", "_fast", "_bounded", "needs")

    def __init__(self, source: re.Pattern[str]) -> None:
        self.source = source
        self.needs = required_literals(source)
        text = source.pattern
        bounded = text.startswith("\\b") and "|" not in _top_level(text)
        body = text[2:] if bounded else text
        flags = source.flags & ~re.IGNORECASE
        try:
            upper = _has_upper(list(_parser.parse(body, flags)))
            self._fast = re.compile(body, source.flags if upper else flags)
        except Exception:  # anything unusual: run the pattern exactly as written
            self._fast, bounded = source, False
        self._bounded = bounded

    def search(self, lowered: str) -> bool:
        """Whether the pattern matches; `lowered` is the text already lower-cased."""
        if not may_match(self.needs, lowered):
            return False
        if not self._bounded:
            return self._fast.search(lowered) is not None
        position = 0
        while True:
            match = self._fast.search(lowered, position)
            if match is None:
                return False
            start = match.start()
            before = lowered[start - 1] if start else ""
            first = lowered[start] if start < len(lowered) else ""
            if bool(before and _is_word(before)) != bool(first and _is_word(first)):
                return True
            position = start + 1


def split_alternatives(pattern: str) -> list[str]:
    """Split a regex at its top-level '|' (outside groups and classes): 'a|(b|c)' -> ['a', '(b|c)']."""
    parts: list[str] = []
    depth = 0
    escaped = in_class = False
    start = 0
    for index, char in enumerate(pattern):
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "|" and depth == 0:
            parts.append(pattern[start:index])
            start = index + 1
    parts.append(pattern[start:])
    return parts


def fast_patterns(source: re.Pattern[str]) -> list[FastPattern]:
    """One FastPattern per top-level alternative, so each gets its own prefilter and boundary shortcut."""
    pieces = split_alternatives(source.pattern)
    if len(pieces) == 1 or source.pattern.startswith("(?"):  # a leading inline flag applies to every piece
        return [FastPattern(source)]
    try:
        return [FastPattern(re.compile(piece, source.flags)) for piece in pieces]
    except re.error:
        return [FastPattern(source)]


def _top_level(pattern: str) -> str:
    """The pattern with every parenthesised group removed: a top-level '|' means the \\b binds one branch only."""
    depth = 0
    out = []
    escaped = False
    in_class = False
    for char in pattern:
        if escaped:
            escaped = False
            if depth == 0:
                out.append("x")
            continue
        if char == "\\":
            escaped = True
            continue
        if in_class:
            in_class = char != "]"
            continue
        if char == "[":
            in_class = True
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif depth == 0:
            out.append(char)
    return "".join(out)
