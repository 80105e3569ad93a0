"""Build data/corpora/python-docs.jsonl: real English prose and Python code, committed so that
every study on a real model reads the same text (held-out loss, calibration, atlas examples).

Sources (both under the PSF licence, redistributable with its notice): the reStructuredText
sources of the Python 3.11 tutorial, FAQ and HOWTOs from Debian's `python3.11-doc`
(/usr/share/doc/python3.11/html/_sources), cleaned of markup into paragraphs; and the first
definitions of a fixed list of standard-library modules. Deterministic: same inputs, same bytes.

    apt-get install python3.11-doc && python tools/build_real_text.py
"""

from __future__ import annotations

import json
import re
import sys
import sysconfig
from pathlib import Path

DOCS = Path("/usr/share/doc/python3.11/html/_sources")
PROSE_DIRS = ("tutorial", "faq", "howto")
CODE_MODULES = ("textwrap", "fractions", "bisect", "heapq", "shlex", "colorsys", "calendar",
                "difflib", "glob", "fnmatch", "string", "queue", "sched", "graphlib")
MAX_DOC_CHARS = 2_000
OUT = Path(__file__).resolve().parents[1] / "data" / "corpora" / "python-docs.jsonl"

_ROLE = re.compile(r":[a-z:]+:`~?([^`<]*?)(?:\s*<[^>]*>)?`")


def clean_rst(text: str) -> list[str]:
    """Paragraphs of plain prose: directives, code blocks, tables and headings dropped."""
    paragraphs, block = [], []
    for raw in text.splitlines() + [""]:
        line = raw.rstrip()
        if not line.strip():
            if block:
                paragraphs.append(" ".join(block))
                block = []
            continue
        if raw.startswith((" ", "\t", "..", "=", "-", "*", "+", "|", "#", "~", "^", ">>>")):
            if block:
                paragraphs.append(" ".join(block))
                block = []
            continue
        block.append(line.strip())
    out = []
    for p in paragraphs:
        p = _ROLE.sub(r"\1", p).replace("``", "").replace("**", "").replace("`_", "")
        p = re.sub(r"`([^`]*)`", r"\1", p).replace("::", ":")
        if len(p) >= 200 and p.count(" ") >= 30:
            out.append(p)
    return out


def prose_docs() -> list[dict]:
    docs = []
    for folder in PROSE_DIRS:
        for path in sorted((DOCS / folder).glob("*.rst.txt")):
            text = ""
            for paragraph in clean_rst(path.read_text(encoding="utf-8")):
                if text and len(text) + len(paragraph) > MAX_DOC_CHARS:
                    docs.append({"text": text, "kind": "prose", "source": f"{folder}/{path.name}"})
                    text = ""
                text = f"{text}\n\n{paragraph}" if text else paragraph
            if text:
                docs.append({"text": text, "kind": "prose", "source": f"{folder}/{path.name}"})
    return docs


def code_docs() -> list[dict]:
    root = Path(sysconfig.get_paths()["stdlib"])
    docs = []
    for name in CODE_MODULES:
        source = (root / f"{name}.py").read_text(encoding="utf-8")
        chunks = re.split(r"\n(?=def |class )", source)
        text = ""
        for chunk in chunks[1:]:
            if len(text) + len(chunk) > MAX_DOC_CHARS:
                break
            text += chunk.strip() + "\n\n"
        if text:
            docs.append({"text": text.strip() + "\n", "kind": "code", "source": f"{name}.py"})
    return docs


def main() -> int:
    if not DOCS.is_dir():
        print(f"missing {DOCS}: apt-get install python3.11-doc", file=sys.stderr)
        return 2
    docs = prose_docs() + code_docs()
    lines = [json.dumps({"id": i, **d}, ensure_ascii=False, sort_keys=True)
             for i, d in enumerate(docs)]
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    chars = sum(len(d["text"]) for d in docs)
    print(f"{OUT}: {len(docs)} documents, {chars} characters "
          f"({sum(d['kind'] == 'code' for d in docs)} code)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
