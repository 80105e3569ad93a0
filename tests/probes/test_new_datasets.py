"""The five plain-English bundled datasets (animal_word, capital_world, sentiment_varied,
number_compare, syllogism): size, balance, unique texts, groups, labels that follow from the
text, and the committed files equal to the generator's output (built in memory, no model)."""

from __future__ import annotations

import json
import re

import pytest

from interp.probes import BUNDLED, load_dataset
from interp.probes.datasets import bundled_datasets_dir
from tools.make_probe_datasets import MAKERS, SOURCES, _lines, build, country_capitals

NEW = {"animal_word": 400, "capital_world": 300, "sentiment_varied": 400,
       "number_compare": 400, "syllogism": 400}


def test_registered_after_the_first_four():
    assert BUNDLED[:4] == ("word_category", "capital_fact", "sentiment", "coin_flip")
    assert BUNDLED[4:] == tuple(NEW)
    assert set(BUNDLED) == set(MAKERS)


@pytest.mark.parametrize("name", NEW)
def test_new_dataset(name):
    ds = load_dataset(name)
    assert len(ds) >= NEW[name]
    counts = list(ds.counts().values())
    assert len(counts) == 2 and counts[0] == counts[1]
    assert len(set(ds.texts)) == len(ds)
    assert ds.groups is not None and all(ds.groups)
    assert len(set(ds.groups)) >= 10
    text = (bundled_datasets_dir() / f"{name}.jsonl").read_text(encoding="utf-8")
    assert build(name, seed=0) == text == build(name, seed=0)
    assert build(name, seed=1) != text


def test_animal_word():
    ds = load_dataset("animal_word")
    animals, others = set(_lines("animals.txt")), set(_lines("non_animals.txt"))
    assert len(animals) == len(others) == 125 and not animals & others
    for t, y, g in zip(ds.texts, ds.labels, ds.groups):
        assert re.search(rf"\b{g}\b", t)
        assert ds.label_names[y] == ("yes" if g in animals else "no")
    assert all(ds.groups.count(w) == 2 for w in animals | others)


def test_capital_world():
    ds = load_dataset("capital_world")
    table = dict(country_capitals())
    assert len(table) == len(country_capitals()) >= 150
    assert len(set(table.values())) == len(table)
    seen = {"true": [], "false": []}
    for t, y in zip(ds.texts, ds.labels):
        country, city = re.fullmatch(r"The capital of (.+) is (.+)\.", t).groups()
        truth = "true" if table[country] == city else "false"
        assert ds.label_names[y] == truth
        seen[truth] += [country, city]
    # every country and every capital once in a true and once in a false statement
    assert sorted(seen["true"]) == sorted(seen["false"])
    assert len(ds) == 2 * len(table)


def test_sentiment_varied_needs_more_than_one_word():
    ds = load_dataset("sentiment_varied")
    p = json.loads((SOURCES / "sentiment_phrases.json").read_text(encoding="utf-8"))
    assert "not" not in {w for t in ds.texts for w in re.findall(r"\w+", t.lower())}
    polar = {w: i for i, words in enumerate((p["negative_adjectives"], p["positive_adjectives"]))
             for w in words}
    mixed = 0
    for t in ds.texts:
        present = {polar[w] for w in re.findall(r"[\w-]+", t) if w in polar}
        present |= {i for i, ph in enumerate((p["negative_phrases"], p["positive_phrases"]))
                    if any(x in t for x in ph)}
        mixed += present == {0, 1}
    assert mixed >= 0.6 * len(ds)  # most sentences hold both polarities
    for topic in p["topics"]:  # each topic balanced
        assert sorted(y for y, g in zip(ds.labels, ds.groups) if g == topic) == [0] * 25 + [1] * 25


def test_number_compare_labels_are_true():
    ds = load_dataset("number_compare")
    for t, y, g in zip(ds.texts, ds.labels, ds.groups):
        a, rel, b = re.fullmatch(r"(\d+) is (greater|less) than (\d+)\.", t).groups()
        a, b = int(a), int(b)
        assert 1 <= a <= 99 and 1 <= b <= 99 and a != b
        assert ds.label_names[y] == str(a > b if rel == "greater" else a < b).lower()
        assert g == f"{min(a, b)}/{max(a, b)}"
    assert all(ds.groups.count(g) == 4 for g in set(ds.groups))


def test_syllogism_twins():
    ds = load_dataset("syllogism")
    nouns = set(_lines("nonsense_nouns.txt"))
    quantifiers: dict[str, list[tuple[str, list[str]]]] = {}
    for t, y, g in zip(ds.texts, ds.labels, ds.groups):
        assert set(re.findall(r"\b[a-z]+s\b", t)) - {"are", "so"} <= nouns
        assert set(g.split("/")) == {w for w in re.findall(r"\w+", t) if w in nouns}
        quantifiers.setdefault(g, []).append(
            (ds.label_names[y], re.findall(r"\b(All|all|No|no|Some|some)\b", t)))
    for pair in quantifiers.values():  # a valid form and an invalid twin, same quantifiers
        assert sorted(label for label, _ in pair) == ["invalid", "valid"]
        assert sorted(pair[0][1]) == sorted(pair[1][1])


def test_every_bundled_dataset_is_named_in_the_cli_help():
    from interp_cli.main import build_parser

    from interp.probes.datasets import BUNDLED

    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command").choices["concept-depth"]
    text = " ".join(sub.format_help().split())
    assert all(name in text for name in BUNDLED)
