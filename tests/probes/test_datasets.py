"""Dataset loaders: the paper's file formats (written here in their published layout),
generic files, label encoding, bad input, and the bundled datasets against their generator."""

from __future__ import annotations

import json

import pytest

from interp.errors import InterpError
from interp.probes import BUNDLED, ProbeDataset, load_dataset
from interp.probes.formats import paper_prompt
from tools.make_probe_datasets import build


def write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def paper_files(tmp_path):
    """One small file per published format (layouts as in github.com/Luckfort/CD/dataset)."""
    f = {}
    f["cities"] = write(tmp_path / "cities.csv", "statement,label,city,country,correct_country\n"
                        "The city of Paris is in France.,1,Paris,France,France\n"
                        "The city of Paris is in Peru.,0,Paris,Peru,France\n")
    f["common"] = write(tmp_path / "common_claim.csv", ",examples,label,agreement\n"
                        "0,Bees make honey.,True,1.0\n1,\"Fish, like birds, fly.\",False,0.5\n"
                        "2,Art is odd.,Neither,0.4\n")
    f["hate"] = write(tmp_path / "hateeval.tsv", "id\ttext\tHS\tTR\tAG\n"
                      "1\tI hate them all\t1\t0\t1\n2\tNice weather\t0\t0\t0\n")
    f["stsa"] = write(tmp_path / "stsa.binary.train", "1 a gorgeous film .\n0 a mess .\n")
    f["sarcasm"] = write(tmp_path / "sarcasm.json",
                         '{"article_link": "u", "headline": "area man wins", "is_sarcastic": 1}\n'
                         '{"article_link": "v", "headline": "rates rise", "is_sarcastic": 0}\n')
    f["coin"] = write(tmp_path / "coin_flip.json", json.dumps({"examples": [
        {"question": "A coin is heads up. Al flips the coin. Is the coin still heads up?",
         "answer": "no"},
        {"question": "A coin is heads up. Bo does not flip the coin. Is the coin still heads "
                     "up?", "answer": "yes"}]}))
    f["sqa"] = write(tmp_path / "StrategyQA_task.json", json.dumps({"name": "strategyqa",
        "examples": [
            {"input": "Can a cat fly?", "target_scores": {"Yes": 0, "No": 1},
             "target": "No. Cats have no wings."},
            {"input": "Is ice cold?", "target_scores": {"Yes": 1, "No": 0},
             "target": "Yes. Ice is frozen water."}]}))
    f["imdb"] = write(tmp_path / "IMDB Dataset.csv",
                      'review,sentiment\n"Great, loved it",positive\nDull,negative\n')
    return f


@pytest.mark.parametrize("key, fmt, text0, names, labels", [
    ("cities", "truth_csv", "The city of Paris is in France.", ["0", "1"], [1, 0]),
    ("common", "common_claim", "Bees make honey.", ["False", "True"], [1, 0]),
    ("hate", "hateeval", "I hate them all", ["0", "1"], [1, 0]),
    ("stsa", "stsa", "a gorgeous film .", ["0", "1"], [1, 0]),
    ("sarcasm", "sarcasm", "area man wins", ["0", "1"], [1, 0]),
    ("coin", "coin_flip", "A coin is heads up. Al flips the coin. Is the coin still heads up?",
     ["no", "yes"], [0, 1]),
    ("sqa", "strategyqa", "Can a cat fly? Cats have no wings.", ["no", "yes"], [0, 1]),
    ("imdb", "imdb_csv", "Great, loved it", ["negative", "positive"], [1, 0]),
])
def test_paper_formats(paper_files, key, fmt, text0, names, labels):
    ds = load_dataset(paper_files[key])
    assert ds.meta["format"] == fmt
    assert ds.texts[0] == text0
    assert ds.label_names == names and ds.labels == labels


def test_paper_prompt_per_format():
    assert paper_prompt("X.", "truth_csv") == "Judge the statement is True or False. X."
    assert paper_prompt("A coin.", "coin_flip").startswith("A coin. According to the flipping")
    assert paper_prompt("plain", "generic") == "plain"


def test_generic_columns_and_cap(tmp_path):
    rows = [{"sent": f"text {i}", "y": "b" if i % 3 else "a"} for i in range(30)]
    p = write(tmp_path / "mine.jsonl", "".join(json.dumps(r) + "\n" for r in rows))
    with pytest.raises(InterpError, match="no text column"):
        load_dataset(p)
    ds = load_dataset(p, text_column="sent", label_column="y", max_per_class=5, seed=1)
    assert ds.counts() == {"a": 5, "b": 5} and ds.name == "mine"
    again = load_dataset(p, text_column="sent", label_column="y", max_per_class=5, seed=1)
    assert again.texts == ds.texts
    with pytest.raises(InterpError, match="'nope' is not in"):
        load_dataset(p, text_column="nope", label_column="y")


@pytest.mark.parametrize("name, text, match", [
    ("one.csv", "text,label\na,1\nb,1\nc,1\n", r"single class '1'"),
    ("pairs.json", json.dumps({"texts": ["a", "b", "c"], "labels": [0, 1]}),
     "3 texts but 2 labels"),
    ("hole.csv", "text,label\na,1\nb,\n", "example 1 has no label"),
    ("data.xlsx", "whatever", "unknown dataset format"),
    ("bad.txt", "positive great\n", "not 'LABEL text'"),
    ("empty.jsonl", "", "no examples"),
])
def test_bad_files(tmp_path, name, text, match):
    with pytest.raises(InterpError, match=match) as err:
        load_dataset(write(tmp_path / name, text))
    assert "\n" not in str(err.value)


def test_bad_specs(tmp_path):
    with pytest.raises(InterpError, match="unknown dataset 'nonsense'; expected one of"):
        load_dataset("nonsense")
    with pytest.raises(InterpError, match="does not exist"):
        load_dataset(str(tmp_path / "missing.csv"))
    with pytest.raises(InterpError, match="2 texts but 1 labels"):
        ProbeDataset("x", ["a", "b"], [0], ["n", "y"])


@pytest.mark.parametrize("name", BUNDLED)
def test_bundled_match_generator(name):
    from interp.probes.datasets import bundled_datasets_dir

    path = bundled_datasets_dir() / f"{name}.jsonl"
    assert path.read_text(encoding="utf-8") == build(name, seed=0)
    ds = load_dataset(name)
    counts = list(ds.counts().values())
    assert len(counts) == 2 and counts[0] == counts[1] >= 72
    assert len(set(ds.texts)) == len(ds)


def test_coin_flip_labels_are_parity():
    ds = load_dataset("coin_flip")
    for text, y in zip(ds.texts, ds.labels):
        flips = text.count(" flips the coin.")
        assert ds.label_names[y] == ("yes" if flips % 2 == 0 else "no")
        assert 2 <= text.count(" the coin.") <= 4


def test_group_column(tmp_path):
    rows = [{"text": f"t {i}", "label": i % 2, "group": f"g{i // 2}", "src": f"s{i // 4}"}
            for i in range(24)]
    p = write(tmp_path / "g.jsonl", "".join(json.dumps(r) + "\n" for r in rows))
    assert load_dataset(p).groups == [f"g{i // 2}" for i in range(24)]  # `group` by default
    assert load_dataset(p, group_column="src").groups == [f"s{i // 4}" for i in range(24)]
    assert load_dataset(p, use_groups=False).groups is None
    capped = load_dataset(p, max_per_class=5, seed=3)
    assert capped.groups == [f"g{int(t.split()[1]) // 2}" for t in capped.texts]
    assert capped.with_texts(capped.texts, "_x").groups == capped.groups
    csv_path = write(tmp_path / "g.csv", "text,label,batch\na,0,1\nb,1,1\nc,0,\n")
    assert load_dataset(csv_path).groups is None  # no `group` column
    with pytest.raises(InterpError, match="example 2 has no group in column 'batch'"):
        load_dataset(csv_path, group_column="batch")
    with pytest.raises(InterpError, match="group column 'nope'|no group in column 'nope'"):
        load_dataset(csv_path, group_column="nope")


def test_bundled_groups():
    from interp.texts.wordlists import COUNTRY_CAPITALS

    caps = load_dataset("capital_fact")
    assert caps.groups is not None and len(set(caps.groups)) == 12
    names = [*COUNTRY_CAPITALS, *COUNTRY_CAPITALS.values()]

    def has(text: str, n: str) -> bool:  # "Mexico" but not inside "Mexico City"
        for longer in names:
            if n in longer and n != longer:
                text = text.replace(longer, "")
        return n in text

    for g in set(caps.groups):  # a country pair: 2 countries x 3 templates x true/false
        members = [i for i, x in enumerate(caps.groups) if x == g]
        assert len(members) == 12
        inside = {n for n in names for i in members if has(caps.texts[i], n)}
        assert len(inside) == 4  # two countries and their capitals, nowhere else
        others = [t for t, x in zip(caps.texts, caps.groups) if x != g]
        assert not any(has(t, n) for n in inside for t in others)
        for n in inside:  # each name alone says nothing: as often true as false
            ys = [caps.labels[i] for i in members if has(caps.texts[i], n)]
            assert sorted(ys) == [0] * 3 + [1] * 3
    words = load_dataset("word_category")
    assert all(t.endswith(" " + g) for t, g in zip(words.texts, words.groups))
    assert load_dataset("sentiment").groups is None and load_dataset("coin_flip").groups is None
