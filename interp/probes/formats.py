"""Read labelled texts from files: the formats of Jin et al.'s datasets (Luckfort/CD) and
generic CSV / TSV / JSON / JSONL.

| format | recognised by | text | label |
|---|---|---|---|
| truth_csv (cities.csv, counterfact.csv) | columns statement, label | statement | label 1/0 |
| common_claim (common_claim.csv) | cols examples, label, agreement | examples | True/False* |
| hateeval (hateeval.tsv) | columns text, HS | text | HS 1/0 |
| stsa (stsa.binary.train/test, *.txt) | each line "LABEL text" | text | 1 positive, 0 negative |
| sarcasm (sarcasm.json, JSON lines) | keys headline, is_sarcastic | headline | is_sarcastic 1/0 |
| coin_flip (coin_flip.json) | {"examples": [{question, answer}]} | question | yes/no |
| strategyqa (StrategyQA_task.json) | {"examples": [{input, target, ...}]} | see below | Yes/No |
| imdb_csv (Kaggle IMDB Dataset.csv) | columns review, sentiment | review | positive/negative |
| columnar JSON | {"texts": [...], "labels": [...]} | texts | labels |
| generic | .csv .tsv .jsonl .json rows | first of TEXT_COLUMNS | first of LABEL_COLUMNS |

* rows labelled Neither are dropped.

Row formats (CSV, TSV, JSON/JSONL rows) may carry a group id per example: column `group` when
every row has one, or the column named by `group_column` (an error if a row lacks it).

For StrategyQA the text is the question plus the target's explanation with its leading
"Yes."/"No." removed, as the paper builds it. `paper_prompt` wraps texts in the paper's
per-dataset instruction (the right one for each dataset; the paper's main.py overwrote it
with the sentiment instruction for all of them).
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path
from typing import Any

from interp.errors import InterpError
from interp.texts.files import reading

TEXT_COLUMNS = ("text", "statement", "sentence", "question", "input", "headline", "examples",
                "review", "prompt")
LABEL_COLUMNS = ("label", "labels", "answer", "is_sarcastic", "HS", "sentiment", "target")
EXTENSIONS = (".csv", ".tsv", ".json", ".jsonl", ".txt", "stsa.binary.*")

#: The paper's prompt per format: (text before, text after) the example (dataset.py there).
PAPER_PROMPTS: dict[str, tuple[str, str]] = {
    "truth_csv": ("Judge the statement is True or False. ", ""),
    "common_claim": ("Judge the statement is True or False. ", ""),
    "hateeval": ("", " According to the comment, tell whether they present hate speech or not."),
    "stsa": ("", (" The sentence above is a movie review and reflects the writer's overall "
             "intention for this review. According to the sentence, judge whether the emotion "
             "is Positive or Negative.")),
    "imdb_csv": ("", " According to the movie review, judge whether it is Positive or Negative."),
    "coin_flip": ("", (" According to the flipping process above, determine if a coin remains "
                  "heads up after it is either flipped or left unflipped by individuals. "
                  "Therefore, the answer (Yes or No) is?")),
    "sarcasm": (("Task: Detect sarcasm, help me identify whether this sentence is sarcastic.\n"
                "First, we need to understand what sarcasm is. Sarcasm is a form of verbal "
                "irony, \nwhere the intended meaning of the words is the opposite of the "
                "literal meaning. \nIn other words, the speaker is saying one thing but "
                "meaning the opposite. "), (" Think carefully according to the sentence. Is there "
                "any sarcasm in this sentence? Please answer Yes or No.")),
    "strategyqa": (("Judge the question is true or false?\nQ: Will Queen Elizabeth be buried in "
                   "the Pantheon?\nLet us think step by step. The stem of the sentence is "
                   "Queen Elizabeth, burial, pantheon. Inference: First, the Pantheon is a "
                   "church, so it is possible that she could be buried there. Second, Queen "
                   "Elizabeth II is still alive, so she has not been buried yet. Third, even if "
                   "she were to be buried in the Pantheon, it is unlikely that we would know "
                   "about it ahead of time, so it is hard to say for sure.\npred_ans: no"),
                   " Let us think step by step..."),
}


def paper_prompt(text: str, fmt: str) -> str:
    """`text` inside the paper's prompt for format `fmt` (unchanged if it has none)."""
    before, after = PAPER_PROMPTS.get(fmt, ("", ""))
    return f"{before}{text}{after}"


def _rows_delimited(path: Path, delimiter: str) -> list[dict[str, Any]]:
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    with open(path, encoding="utf-8", newline="") as f:
        return [dict(r) for r in csv.DictReader(f, delimiter=delimiter)]


def _rows_json(path: Path) -> Any:
    text = path.read_text(encoding="utf-8")
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        pass
    rows = []
    for i, line in enumerate(text.splitlines()):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as err:
                raise InterpError(f"'{path}' is neither JSON nor JSON lines (line {i + 1}: "
                                  f"{err.msg})") from None
    return rows


def _stsa(path: Path) -> tuple[list[str], list[Any], str]:
    texts, labels = [], []
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
        if not line.strip():
            continue
        head, _, rest = line.strip().partition(" ")
        if not head.lstrip("-").isdigit() or not rest.strip():
            raise InterpError(f"'{path}' line {i + 1} is not 'LABEL text' (the STSA format)")
        texts.append(rest.strip())
        labels.append(int(head))
    return texts, labels, "stsa"


def _pick(columns: list[str], given: str | None, guesses: tuple[str, ...], what: str,
          path: Path) -> str:
    if given is not None:
        if given not in columns:
            raise InterpError(f"{what} column {given!r} is not in '{path}'; columns: "
                              f"{', '.join(columns)}")
        return given
    for g in guesses:
        if g in columns:
            return g
    raise InterpError(f"no {what} column in '{path}' (columns: {', '.join(columns)}); give "
                      f"{what}_column")


def _strip_answer(target: str) -> str:
    for head in ("Yes.", "No."):
        if target.startswith(head):
            return target[len(head):].strip()
    return target


def _groups(rows: list[dict[str, Any]], col: str | None, path: Path) -> list[str] | None:
    if col is None:
        ok = all(r.get("group") not in (None, "") for r in rows)
        return [str(r["group"]) for r in rows] if ok else None
    for i, r in enumerate(rows):
        if r.get(col) in (None, ""):
            raise InterpError(f"'{path}': example {i} has no group in column {col!r}")
    return [str(r[col]) for r in rows]


def _from_rows(rows: list[Any], path: Path, text_col: str | None, label_col: str | None,
               group_col: str | None = None) -> tuple[list[str], list[Any], str,
                                                      list[str] | None]:
    if not rows:
        raise InterpError(f"'{path}' has no examples")
    if not all(isinstance(r, dict) for r in rows):
        raise InterpError(f"'{path}': every example must be an object with text and label")
    cols = list(dict.fromkeys(k for r in rows for k in r))
    if text_col is None and label_col is None:
        if {"input", "target_scores"} <= set(cols):
            texts = [f"{r['input']} {_strip_answer(r.get('target', ''))}".strip() for r in rows]
            labels = ["yes" if r["target_scores"].get("Yes") == 1 else "no" for r in rows]
            return texts, labels, "strategyqa", _groups(rows, group_col, path)
        if {"examples", "label", "agreement"} <= set(cols):
            keep = [r for r in rows if str(r["label"]) in ("True", "False")]
            return ([r["examples"] for r in keep], [r["label"] for r in keep], "common_claim",
                    _groups(keep, group_col, path))
        fmt = ("truth_csv" if {"statement", "label"} <= set(cols) else
               "hateeval" if {"text", "HS"} <= set(cols) else
               "sarcasm" if {"headline", "is_sarcastic"} <= set(cols) else
               "coin_flip" if {"question", "answer"} <= set(cols) else
               "imdb_csv" if {"review", "sentiment"} <= set(cols) else "generic")
        if fmt == "hateeval":
            label_col = "HS"
    else:
        fmt = "generic"
    tc = _pick(cols, text_col, TEXT_COLUMNS, "text", path)
    lc = _pick(cols, label_col, LABEL_COLUMNS, "label", path)
    texts, labels = [], []
    for i, r in enumerate(rows):
        t = r.get(tc)
        if not isinstance(t, str) or not t.strip():
            raise InterpError(f"'{path}': example {i} has no text in column {tc!r}")
        if lc not in r or r[lc] is None or r[lc] == "":
            raise InterpError(f"'{path}': example {i} has no label in column {lc!r}")
        texts.append(t)
        labels.append(r[lc])
    return texts, labels, fmt, _groups(rows, group_col, path)


def _columnar(data: dict[str, Any], path: Path) -> tuple[list[str], list[Any], str] | None:
    for tk, lk in (("texts", "labels"), ("text", "label")):
        if isinstance(data.get(tk), list) and isinstance(data.get(lk), list):
            if len(data[tk]) != len(data[lk]):
                raise InterpError(f"'{path}' has {len(data[tk])} {tk} but {len(data[lk])} "
                                  f"{lk}; they must pair one to one")
            return data[tk], data[lk], "columnar_json"
    return None


def read_file(path: Path, text_column: str | None = None, label_column: str | None = None,
              group_column: str | None = None,
              ) -> tuple[list[str], list[Any], str, list[str] | None]:
    """(texts, raw labels, format name, group ids or None) from `path`; InterpError for
    anything unreadable."""
    name = path.name.lower()
    with reading(path, "dataset"):
        if name.startswith("stsa.binary") or name.endswith(".txt"):
            if group_column is not None:
                raise InterpError(f"'{path}' is an STSA text file; it has no group column")
            return (*_stsa(path), None)
        if name.endswith((".csv", ".tsv")):
            rows = _rows_delimited(path, "\t" if name.endswith(".tsv") else ",")
            return _from_rows(rows, path, text_column, label_column, group_column)
        if name.endswith((".json", ".jsonl")):
            data = _rows_json(path)
            if isinstance(data, dict):
                col = _columnar(data, path)
                if col is not None:
                    if group_column is not None:
                        raise InterpError(f"'{path}' is columnar JSON; it has no group column")
                    return (*col, None)
                if not isinstance(data.get("examples"), list):
                    raise InterpError(f"'{path}' is a JSON object without an 'examples' list "
                                      "or texts/labels lists")
                data = data["examples"]
            if not isinstance(data, list):
                raise InterpError(f"'{path}' must hold a list of examples")
            return _from_rows(data, path, text_column, label_column, group_column)
    raise InterpError(f"unknown dataset format for '{path}'; expected one of "
                      f"{', '.join(EXTENSIONS)}")
