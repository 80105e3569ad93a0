"""Write the bundled concept-depth datasets to data/datasets/ (fixed seed, balanced classes).

    python -m tools.make_probe_datasets [--out DIR] [--seed 0]   (from the repository root)

Four binary datasets, in rising complexity, built from the vocabulary and sentence patterns
that interp-tiny was trained on (interp.texts.wordlists, interp.bundled.stories), then five
in plain English for real models (SmolLM2-135M), in the paper's three families (factual,
emotional, inferential), built from the lists in tools/probe_sources/ (see below):

- word_category: "I saw the fox" vs "I saw the bread": is the last word an animal or a food?
  (the label sits in the last token itself)
- capital_fact: "The capital of France is Paris." vs "... is Rome.": true or false? (a
  factual association, carried to the final "."). Countries come in random pairs, and each
  country's wrong capital is its partner's capital ("... of Italy is Paris."), so within a
  pair every country and every city appears equally often in true and false statements:
  neither the country nor the city alone tells the label, only their binding does.
- sentiment: "The film was awful. Tom hated it." : positive or negative? (spread over the
  sentence, carried to the final token)
- coin_flip: "A coin is heads up. Ann flips the coin. Bob does not flip the coin. ... Is the
  coin still heads up?": yes or no? (the parity of 2-4 flips: a computation)

Each line of `<name>.jsonl` is {"text": ..., "label": ..., "group": ...}; texts are unique.
`group` ties near-duplicates together so that cross-validation keeps them on one side of every
split: the country pair for capital_fact (both countries' true and false statements in all
templates, so test statements name countries and cities never seen in training), the word for
word_category (one word in up to 8 templates). Sentiment and coin_flip are sampled
freely (no templated twins) and carry no group.

The five English datasets (sources in tools/probe_sources/, each a commented plain file):

- animal_word (factual, word level): "Is this an animal: fox?" / "The word is kettle.":
  yes or no. 125 animal and 125 non-animal concrete nouns (animals.txt, non_animals.txt),
  each word in 2 of 5 templates (every template 50 times per class); group: the word.
- capital_world (factual, world knowledge): "The capital of Peru is Lima." true or false,
  one true and one false statement per country of country_capitals.tsv. As in capital_fact
  the countries come in random pairs (a triple if their number is odd) and each one's false
  capital is its partner's, so every country and every city is once in a true and once in a
  false statement; group: the pair (grouping by country alone would leave a held-out
  country's true capital in training only in a false statement).
- sentiment_varied (emotional): "The soup was pretty awful, but the waiter was lovely.":
  positive or negative. Clauses (an aspect of a topic + a predicate) from
  sentiment_phrases.json; 3 in 4 sentences join a positive and a negative clause with a
  contrast (but / however / although / even though) and the label is the main clause's,
  which comes first in 2 of the 5 contrast templates; the rest are one clause in neutral
  context. 10 topics x 25 sentences per class; group: the topic.
- number_compare (inferential): "42 is greater than 17." true or false. 125 pairs of numbers
  1-99 (25 one-digit pairs, 25 one- against two-digit, 25 two-digit with the same tens digit,
  50 two-digit with different tens digits), each pair in all four statements (a > b, a < b,
  b > a, b < a: two true, two false); group: the pair.
- syllogism (inferential): "All wugs are daxes. All daxes are feps. So all wugs are feps.":
  valid or invalid. Made-up nouns (nonsense_nouns.txt), so no conclusion is believable or
  not; 250 noun triples, each in one valid form and an invalid twin with the same
  quantifiers (5 such pairs, 50 triples each); group: the triple.
"""

from __future__ import annotations

import argparse
import json
import random
from collections.abc import Callable
from pathlib import Path

from interp.atomic import write_atomic
from interp.texts import wordlists as W

N_PER_CLASS = 150
WORD_TEMPLATES = ("I saw the {w}", "Look at the {w}", "We talked about the {w}",
                  "They found the {w}", "Here is the {w}", "She drew the {w}",
                  "He looked for the {w}", "My friend likes the {w}")
CAPITAL_TEMPLATES = ("The capital of {c} is {y}.", "{y} is the capital of {c}.",
                     "{y} is a city in {c}.")
SENTIMENT_TEMPLATES = ("The {thing} was {adj}. {name} {feel} it.",
                       "{name} {feel} the {thing}. It was {adj} and {adj2}.",
                       "What {a_adj} {thing}! {name} felt {mood}.",
                       "This {thing} is {adj}. I felt {mood} all day.")


Row = tuple[str, str] | tuple[str, str, str]  # (text, label) or (text, label, group)


def word_category(rng: random.Random) -> list[Row]:
    out: list[Row] = []
    for label, words in (("animal", W.ANIMALS), ("food", W.FOODS)):
        pairs = [(w, t) for w in words for t in WORD_TEMPLATES]
        out += [(t.format(w=w), label, w) for w, t in rng.sample(pairs, N_PER_CLASS)]
    return out


def capital_fact(rng: random.Random) -> list[Row]:
    countries = sorted(W.COUNTRY_CAPITALS)
    rng.shuffle(countries)
    out: list[Row] = []
    for a, b in zip(countries[0::2], countries[1::2]):
        group = f"{a}/{b}"
        for country, other in ((a, b), (b, a)):
            city, wrong = W.COUNTRY_CAPITALS[country], W.COUNTRY_CAPITALS[other]
            for t in CAPITAL_TEMPLATES:
                out.append((t.format(c=country, y=city), "true", group))
                out.append((t.format(c=country, y=wrong), "false", group))
    return out


def _sentiment_one(rng: random.Random, positive: bool) -> str:
    adj, adj2 = rng.sample(W.POSITIVE_WORDS if positive else W.NEGATIVE_WORDS, 2)
    thing = rng.choice([rng.choice(W.FOODS), "day", "film", "book", "trip", "party", "song"])
    feel = rng.choice(["loved", "liked", "enjoyed"] if positive else ["hated", "disliked"])
    mood = rng.choice(["happy", "glad", "pleased"] if positive else ["sad", "upset", "angry"])
    a_adj = ("an " if adj[0] in "aeiou" else "a ") + adj
    return rng.choice(SENTIMENT_TEMPLATES).format(
        thing=thing, adj=adj, adj2=adj2, name=rng.choice(W.NAMES), feel=feel, mood=mood,
        a_adj=a_adj)


def sentiment(rng: random.Random) -> list[Row]:
    return _unique(rng, lambda r, pos: _sentiment_one(r, pos), ("negative", "positive"))


def _coin_one(rng: random.Random, want_heads: bool) -> str | None:
    parts, heads = ["A coin is heads up."], True
    for person in rng.sample(W.NAMES, rng.randint(2, 4)):
        flips = rng.random() < 0.5
        heads ^= flips
        parts.append(f"{person} {'flips' if flips else 'does not flip'} the coin.")
    parts.append("Is the coin still heads up?")
    return " ".join(parts) if heads == want_heads else None


def coin_flip(rng: random.Random) -> list[Row]:
    return _unique(rng, _coin_one, ("no", "yes"))


def _unique(rng: random.Random, make: Callable[[random.Random, bool], str | None],
            labels: tuple[str, str]) -> list[Row]:
    out: list[Row] = []
    for positive, label in ((False, labels[0]), (True, labels[1])):
        seen: set[str] = set()
        while len(seen) < N_PER_CLASS:
            text = make(rng, positive)
            if text is not None and text not in seen:
                seen.add(text)
                out.append((text, label))
    return out


SOURCES = Path(__file__).resolve().parent / "probe_sources"
ANIMAL_TEMPLATES = ("Is this an animal: {w}?", "Word: {w}. Is it an animal?",
                    "The word is {w}.", "Here is a word: {w}.", "Consider the word {w}.")
CAPITAL_WORLD_TEMPLATE = "The capital of {c} is {y}."
#: Sentences of one clause (label: its polarity) in neutral context.
SENTIMENT_ONE = ("{Opener}, {d}.", "{Reporter} {d}.", "{D} {tail}.")
#: Contrasts of a main clause d (the label) and an opposite concession o.
SENTIMENT_CONTRAST = ("{O}, but {d}.", "Although {o}, {d}.", "{D}, even though {o}.",
                      "{O}. However, {d}.", "{D}, although {o}.")
SENTIMENT_PER_TOPIC = 25  # sentences per class and topic
#: (valid, invalid) syllogisms with the same quantifiers, over the roles a, b, c.
SYLLOGISMS = (
    ("All {a} are {b}. All {b} are {c}. So all {a} are {c}.",
     "All {a} are {b}. All {c} are {b}. So all {a} are {c}."),  # undistributed middle
    ("All {b} are {c}. All {a} are {b}. So all {a} are {c}.",
     "All {a} are {b}. All {b} are {c}. So all {c} are {a}."),  # converse conclusion
    ("No {b} are {c}. All {a} are {b}. So no {a} are {c}.",
     "No {b} are {c}. All {b} are {a}. So no {a} are {c}."),  # illicit minor
    ("Some {a} are {b}. All {b} are {c}. So some {a} are {c}.",
     "All {a} are {b}. Some {b} are {c}. So some {a} are {c}."),  # undistributed middle
    ("All {a} are {b}. No {c} are {b}. So no {a} are {c}.",
     "All {a} are {b}. No {a} are {c}. So no {b} are {c}."),  # illicit major
)
SYLLOGISM_TRIPLES = 250


def _lines(name: str) -> list[str]:
    """The non-comment, non-blank lines of tools/probe_sources/NAME."""
    text = (SOURCES / name).read_text(encoding="utf-8")
    return [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]


def animal_word(rng: random.Random) -> list[Row]:
    out: list[Row] = []
    for label, name in (("yes", "animals.txt"), ("no", "non_animals.txt")):
        words = _lines(name)
        rng.shuffle(words)
        for i, w in enumerate(words):  # 2 distinct templates; each template equally often
            first, second = i % 5, (i + 1 + (i // 5) % 4) % 5
            out += [(ANIMAL_TEMPLATES[t].format(w=w), label, w) for t in (first, second)]
    return out


def country_capitals() -> list[tuple[str, str]]:
    """(country, capital) rows of tools/probe_sources/country_capitals.tsv, in file order."""
    header, *rows = _lines("country_capitals.tsv")
    table = []
    for row in rows:
        country, sep, capital = row.partition("\t")
        if header != "country\tcapital" or not sep or "\t" in capital:
            raise ValueError(f"country_capitals.tsv: expected country<TAB>capital, got {row!r}")
        table.append((country, capital))
    return table


def capital_world(rng: random.Random) -> list[Row]:
    table = country_capitals()
    rng.shuffle(table)
    groups = [table[i:i + 2] for i in range(0, len(table) - len(table) % 2, 2)]
    if len(table) % 2:
        groups[-1].append(table[-1])
    out: list[Row] = []
    for members in groups:
        group = "/".join(c.removeprefix("the ") for c, _ in members)
        for j, (country, city) in enumerate(members):
            wrong = members[(j + 1) % len(members)][1]
            out.append((CAPITAL_WORLD_TEMPLATE.format(c=country, y=city), "true", group))
            out.append((CAPITAL_WORLD_TEMPLATE.format(c=country, y=wrong), "false", group))
    return out


def _clause(rng: random.Random, p: dict, aspect: str, positive: bool) -> str:
    sign = "positive" if positive else "negative"
    adjectives, phrases = p[f"{sign}_adjectives"], p[f"{sign}_phrases"]
    k = rng.randrange(len(adjectives) + len(phrases))
    if k >= len(adjectives):
        return f"{aspect} {phrases[k - len(adjectives)]}"
    return " ".join(w for w in (aspect, "was", rng.choice(p["intensifiers"]), adjectives[k]) if w)


def _cap(s: str) -> str:
    return s[0].upper() + s[1:]


def _sentiment_varied_one(rng: random.Random, p: dict, aspects: list[str],
                          positive: bool) -> str:
    main, other = rng.sample(aspects, 2)
    d = _clause(rng, p, main, positive)
    if rng.random() < 0.25:
        t = rng.choice(SENTIMENT_ONE)
        return t.format(Opener=rng.choice(p["openers"]), Reporter=rng.choice(p["reporters"]),
                        tail=rng.choice(p["tails"]), d=d, D=_cap(d))
    o = _clause(rng, p, other, not positive)
    return rng.choice(SENTIMENT_CONTRAST).format(d=d, D=_cap(d), o=o, O=_cap(o))


def sentiment_varied(rng: random.Random) -> list[Row]:
    p = json.loads((SOURCES / "sentiment_phrases.json").read_text(encoding="utf-8"))
    out: list[Row] = []
    for positive, label in ((False, "negative"), (True, "positive")):
        for topic, aspects in p["topics"].items():
            seen: set[str] = set()
            while len(seen) < SENTIMENT_PER_TOPIC:
                text = _sentiment_varied_one(rng, p, aspects, positive)
                if text not in seen:
                    seen.add(text)
                    out.append((text, label, topic))
    return out


def number_compare(rng: random.Random) -> list[Row]:
    one, two = range(1, 10), range(10, 100)
    one_one = [(a, b) for a in one for b in one if a < b]
    one_two = [(a, b) for a in one for b in two]
    same_tens = [(a, b) for a in two for b in two if a < b and a // 10 == b // 10]
    other_tens = [(a, b) for a in two for b in two if a < b and a // 10 != b // 10]
    chosen = (rng.sample(one_one, 25) + rng.sample(one_two, 25) + rng.sample(same_tens, 25)
              + rng.sample(other_tens, 50))
    out: list[Row] = []
    for a, b in chosen:  # a < b
        g = f"{a}/{b}"
        out += [(f"{b} is greater than {a}.", "true", g), (f"{a} is less than {b}.", "true", g),
                (f"{a} is greater than {b}.", "false", g), (f"{b} is less than {a}.", "false", g)]
    return out


def syllogism(rng: random.Random) -> list[Row]:
    nouns = _lines("nonsense_nouns.txt")
    triples = [(a, b, c) for a in nouns for b in nouns for c in nouns if len({a, b, c}) == 3]
    out: list[Row] = []
    for i, (a, b, c) in enumerate(rng.sample(triples, SYLLOGISM_TRIPLES)):
        valid, invalid = SYLLOGISMS[i % len(SYLLOGISMS)]
        g = f"{a}/{b}/{c}"
        out += [(valid.format(a=a, b=b, c=c), "valid", g),
                (invalid.format(a=a, b=b, c=c), "invalid", g)]
    return out


MAKERS: dict[str, Callable[[random.Random], list[Row]]] = {
    "word_category": word_category, "capital_fact": capital_fact, "sentiment": sentiment,
    "coin_flip": coin_flip, "animal_word": animal_word, "capital_world": capital_world,
    "sentiment_varied": sentiment_varied, "number_compare": number_compare,
    "syllogism": syllogism,
}


def build(name: str, seed: int = 0) -> str:
    """The JSONL text of bundled dataset `name` (examples shuffled with the seed)."""
    rng = random.Random(f"{name}:{seed}")
    rows = MAKERS[name](rng)
    rng.shuffle(rows)
    keys = ("text", "label", "group")
    return "".join(json.dumps(dict(zip(keys, row))) + "\n" for row in rows)


def write_all(out: Path, seed: int = 0) -> list[Path]:
    """Write every bundled dataset into `out` atomically; returns the paths."""
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name in MAKERS:
        paths.append(write_atomic(out / f"{name}.jsonl", build(name, seed)))
    return paths


def main(argv: list[str] | None = None) -> int:
    from interp.probes.datasets import bundled_datasets_dir

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=bundled_datasets_dir())
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    for path in write_all(args.out, args.seed):
        print(f"wrote {path} ({sum(1 for _ in path.open())} examples)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
