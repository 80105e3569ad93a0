"""User-facing errors: one line each, naming the bad value and what would be valid.

The CLI prints `error: <message>` and exits with status 2 for any `InterpError`.
"""

from __future__ import annotations


class InterpError(ValueError):
    """Bad input from the user (a path, a model name, a layer, a site...).

    The message is a single line that names the offending value and what would be valid.
    """

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(str(message).split()))


def choices_error(what: str, value: object, choices: object) -> InterpError:
    """Build the standard "unknown X 'v'; expected one of a, b, c" error."""
    options = ", ".join(repr(c) for c in choices)  # type: ignore[union-attr]
    return InterpError(f"unknown {what} {value!r}; expected one of {options}")


def range_error(what: str, value: object, n: int) -> InterpError:
    """Build the standard "X v out of range; valid: 0..n-1" error."""
    return InterpError(f"{what} {value!r} out of range; valid: 0..{n - 1} (model has {n})")


def first_line(err: BaseException) -> str:
    """The first line of an exception's message (its type name when empty), at most 300 chars."""
    text = str(err).strip() or type(err).__name__
    return text.splitlines()[0][:300]
