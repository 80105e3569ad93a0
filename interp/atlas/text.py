"""Model-derived strings made safe to show: visible whitespace and control characters, bounded
length, and the search key / bucket hash shared (bit for bit) with the site's JavaScript.

The site never parses these strings as HTML (it sets `textContent` only); this module makes
them *visible*: a token of spaces, a newline, a NUL or a right-to-left override must be seen
as what it is, and must not reorder or hide the text around it.
"""

from __future__ import annotations

import re
import unicodedata

#: Longest token label shown; longer ones end in "…(+N)".
MAX_TOKEN_CHARS = 48
# a literal backslash is doubled, so "\\x00" (four characters) never looks like a NUL byte
_TEXT = {"\n": "\u21b5", "\t": "\u21e5", "\r": "\u240d", "\\": "\\\\"}  # ↵ ⇥ ␍ \\
_VISIBLE = {**_TEXT, " ": "\u2423"}  # ␣; running text (_TEXT) keeps its spaces


def _escape_char(ch: str) -> str:
    """"\\x00", "\\u202e": an invisible or layout-changing character as a visible escape."""
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 \
        else f"\\U{code:08x}"


def _needs_escape(ch: str) -> bool:
    # Cc control, Cf format (bidi overrides, zero-width), Cs lone surrogates, Co private use,
    # Cn unassigned, Zl/Zp line/paragraph separators, and every space that is not " ".
    cat = unicodedata.category(ch)
    return cat in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp") or (cat == "Zs" and ch != " ")


_PLAIN = re.compile(r"[!-\[\]-~]+")  # printable ASCII except space and backslash: unchanged


def visible(text: str, *, keep_spaces: bool = False, limit: int | None = MAX_TOKEN_CHARS) -> str:
    """`text` with whitespace shown (␣ ↵ ⇥ ␍; spaces kept when `keep_spaces`), backslashes
    doubled, every control,
    format, bidi, surrogate or unassigned character as an escape like "\\x00" or "\\u202e",
    and at most `limit` characters of the original (then "…(+N)")."""
    if _PLAIN.fullmatch(text) and (limit is None or len(text) <= limit):
        return text
    marks = _TEXT if keep_spaces else _VISIBLE
    cut = text if limit is None or len(text) <= limit else text[:limit]
    out = []
    for ch in cut:
        if ch in marks:
            out.append(marks[ch])
        elif _needs_escape(ch):
            out.append(_escape_char(ch))
        else:
            out.append(ch)
    if cut is not text:
        out.append(f"\u2026(+{len(text) - len(cut)})")
    if not out:
        return "\u2205"  # ∅ for the empty string
    return "".join(out)


def search_key(token: str) -> str:
    """What the search box matches: the token without surrounding spaces/tabs/newlines and
    with ASCII letters lower-cased (the site's JavaScript applies the same rule)."""
    stripped = token.strip(" \t\n\r")
    return "".join(chr(ord(c) + 32) if "A" <= c <= "Z" else c for c in stripped)


def bucket_of(key: str, n_buckets: int) -> int:
    """FNV-1a (32 bit) over the UTF-16 code units of `key`, modulo `n_buckets`: the search
    shard that holds `key` (the same function runs in the browser on the typed query)."""
    h = 0x811C9DC5
    data = key.encode("utf-16-le", "surrogatepass")
    for i in range(0, len(data), 2):
        h ^= data[i] | (data[i + 1] << 8)
        h = (h * 0x01000193) & 0xFFFFFFFF
    return h % n_buckets
