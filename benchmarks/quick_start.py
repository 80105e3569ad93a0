"""The README's quick start, timed: its main job (everything after `bash .ci/setup &&`, read
from README.md, so the benchmark runs what a new user runs) in a fresh temporary directory
with an empty model cache, so the first conversion of SmolLM2 is included. Each `&&` part is
timed on its own; the goal is the whole job in under 5 minutes (300 s) on 2 cores.

    .venv/bin/python benchmarks/quick_start.py
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GOAL_S = 300.0
PREFIX = "bash .ci/setup && "


def main_job(readme: Path = ROOT / "README.md") -> list[str]:
    """The quick start's commands after the setup, as README.md shows them."""
    lines = [line for line in readme.read_text(encoding="utf-8").splitlines()
             if line.startswith(PREFIX)]
    if len(lines) != 1:
        raise SystemExit(f"README.md has {len(lines)} quick-start lines starting "
                         f"{PREFIX!r}; expected one")
    return [part.strip() for part in lines[0][len(PREFIX):].split("&&")]


def main() -> int:
    commands = main_job()
    venv_bin = ROOT / ".venv" / "bin"
    with tempfile.TemporaryDirectory(prefix="interp-quick-start-") as work:
        env = {**os.environ, "INTERP_CACHE_DIR": str(Path(work) / "cache")}
        total = 0.0
        for command in commands:
            argv = shlex.split(command)
            if argv[0].startswith(".venv/"):  # the repository's venv, from the temp dir
                argv[0] = str(venv_bin / Path(argv[0]).name)
            t0 = time.perf_counter()
            done = subprocess.run(argv, cwd=work, env=env, capture_output=True, text=True,
                                  check=False)
            spent = time.perf_counter() - t0
            total += spent
            if done.returncode:
                sys.stderr.write(done.stdout[-2000:] + done.stderr[-4000:])
                raise SystemExit(f"failed ({done.returncode}): {command}")
            short = re.sub(r"\s+--", " --", command)[:90]
            print(f"{spent:7.1f} s  {short}")
    print(f"{total:7.1f} s  whole main job (goal {GOAL_S:.0f} s: {total / GOAL_S:.2f} of it)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
