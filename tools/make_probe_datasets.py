"""Write the bundled concept-depth datasets to data/datasets/ (fixed seed, balanced classes).

    python -m tools.make_probe_datasets [--out DIR] [--seed 0]   (from the repository root)

Four binary datasets, in rising complexity, built from the vocabulary and sentence patterns
that interp-tiny was trained on (interp.texts.wordlists, interp.bundled.stories):

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


MAKERS: dict[str, Callable[[random.Random], list[Row]]] = {
    "word_category": word_category, "capital_fact": capital_fact, "sentiment": sentiment,
    "coin_flip": coin_flip,
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
