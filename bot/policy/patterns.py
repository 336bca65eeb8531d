"""Policy patterns compiled with RE2: matching time is linear in the text, always.

Names and messages are chosen by strangers, so a pattern such as `(a+)+$` must not
be able to stall the bot (Python's `re` backtracks exponentially on it). RE2 has
no backreferences, lookaround or atomic groups; a pattern using them is a load
error with a hint, not a silent fallback to a backtracking engine.
"""

from __future__ import annotations

from collections.abc import Callable

import re2

Matcher = Callable[[str], bool]

_HINT = (
    "policy patterns use RE2 syntax, which matches in linear time: no lookahead,"
    " lookbehind, backreferences or atomic groups (write \\z, not \\Z)"
)


class PatternError(ValueError):
    """A pattern RE2 cannot compile; the message says why and what RE2 accepts."""


def _options(ignore_case: bool) -> re2.Options:
    options = re2.Options()
    options.log_errors = False  # RE2 would print to stderr; the loader reports instead
    options.never_capture = True  # one span, not one per group: faster and enough
    options.case_sensitive = not ignore_case
    return options


def _matcher(source: str, ignore_case: bool, whole: bool) -> Matcher:
    try:
        compiled = re2.compile(source, _options(ignore_case))
    except re2.error as exc:
        reason = exc.args[0] if exc.args else exc
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        raise PatternError(f"{reason}; {_HINT}") from None
    # The low-level call: no Match objects, no offset bookkeeping, one C++ call per text.
    match = compiled._regexp.Match
    anchor = re2._Anchor.ANCHOR_BOTH if whole else re2._Anchor.UNANCHORED
    miss = (-1, -1)

    def matches(text: str) -> bool:
        data = text.encode("utf-8", "surrogatepass")
        return match(anchor, data, 0, len(data))[0] != miss

    return matches


def compile_regex(source: str) -> Matcher:
    """A regular expression searched anywhere in the text (as re.search), in RE2 syntax."""
    return _matcher(source, ignore_case=False, whole=False)


def compile_wildcards(patterns: list[str]) -> Matcher:
    """Case-insensitive shell wildcards (`*nitro*`, `bot-??`, `[!a]*`) over the whole text."""
    # (?s): `*` spans newlines, as in fnmatch.
    source = "(?s)" + "|".join(glob_to_re2(p) for p in patterns)
    return _matcher(source, ignore_case=True, whole=True)


def glob_to_re2(pattern: str) -> str:
    """fnmatch's wildcard language as an RE2 expression (fnmatch's own output is not RE2)."""
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        i += 1
        if c == "*":
            if not out or out[-1] != ".*":  # `**` is `*`
                out.append(".*")
        elif c == "?":
            out.append(".")
        elif c == "[":
            j = i
            if j < n and pattern[j] == "!":
                j += 1
            if j < n and pattern[j] == "]":
                j += 1
            j = pattern.find("]", j)
            if j < 0:
                out.append(r"\[")  # no closing bracket: a literal "["
                continue
            body = pattern[i:j].replace("\\", "\\\\").replace("[", "\\[")
            i = j + 1
            if body.startswith("!"):
                body = "^" + body[1:]
            elif body.startswith("^"):
                body = "\\" + body
            out.append(f"[{body}]")
        else:
            out.append(re2.escape(c))
    return "(?:" + "".join(out) + ")"
