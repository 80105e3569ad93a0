"""Driving interp's offline pages in Debian's Chromium (Playwright): where the browser is, and a
wait that works under the pages' Content-Security-Policy.

Playwright's `page.wait_for_function` evaluates its predicate with the page's own `eval`, which
`script-src 'self'` (the atlas, the attention page) forbids: whether it fails depends on whether
the policy is parsed before the first poll, so tests using it were flaky. `wait_until` polls with
`page.evaluate` instead (a DevTools call, outside the policy)."""

from __future__ import annotations

import os
import shutil
import time
from typing import Any

CHROMIUM = os.environ.get("INTERP_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"

#: The drawn rows of layer.html belong to the current hash (browse.js sets these data attributes).
ROWS_DRAWN = ("() => { const b = document.getElementById('b-rows');"
              " return !!b && b.dataset.hash === location.hash && !!b.dataset.ms; }")
#: ... and they are page `arg` (a string) of the current hash.
ROWS_PAGE_DRAWN = ("n => { const b = document.getElementById('b-rows');"
                   " return !!b && b.dataset.hash === location.hash && b.dataset.page === n; }")


def wait_until(page: Any, predicate: str, arg: Any = None, timeout_s: float = 30.0,
               poll_s: float = 0.02) -> Any:
    """Poll `predicate` (a JavaScript function taking `arg`) until it returns a truthy value;
    return that value. TimeoutError after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            value = page.evaluate(predicate, arg)
        except Exception as err:  # a navigation replaced the document under the call: poll on
            if "context was destroyed" not in str(err):
                raise
            value = None
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"page never satisfied {predicate!r} (arg {arg!r}) "
                               f"within {timeout_s:g} s")
        time.sleep(poll_s)
