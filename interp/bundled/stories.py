"""Generated simple English for the bundled model: stories, facts and task sentences.

Real offline text is archaic or technical; this generator supplies frequent concept words in
varied contexts plus the patterns the task evaluations need (indirect objects, year ranges,
coin flips, sentiment).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator

from interp.texts import wordlists as W


def _a(word: str) -> str:
    return ("an " if word[0].lower() in "aeiou" else "a ") + word


def _pick2(rng: random.Random, items) -> tuple[str, str]:
    first, second = rng.sample(list(items), 2)
    return first, second


def story(rng: random.Random) -> str:
    """A short story about a named animal, with family, places, food, colours and days."""
    name, friend = _pick2(rng, W.NAMES)
    animal, other = _pick2(rng, W.ANIMALS)
    colour = rng.choice(W.COLOURS)
    place, place2 = _pick2(rng, W.PLACES)
    food, food2 = _pick2(rng, W.FOODS)
    day = rng.choice(W.WEEKDAYS)
    month = rng.choice(W.MONTHS)
    kin = rng.choice(W.FAMILY)
    job = rng.choice(W.JOBS)
    pool = [
        f"Once upon a time, there was a little {colour} {animal} named {name}.",
        f"The {animal} lived near the {place} with its {kin}.",
        f"Every {day}, {name} ate some {food} and a little {food2}.",
        f"One day in {month}, the {animal} met {_a(other)} at the {place2}.",
        f"The {other} said, \"Hello, {animal}! Do you want to play?\"",
        "They played all day and were very happy.",
        f"{name}'s {kin} was {_a(job)}, and the {job} worked at the {place2}.",
        f"At night, the little {animal} went home to the {place} and slept.",
        f"{friend} saw the {animal} and gave it some {food}.",
        f"The {other} was {rng.choice(W.COLOURS)} and the {animal} was {colour}.",
        f"In {month} the {animal} and the {other} walked to the {place} together.",
        f"\"I like {food},\" said the {animal}. \"I like {food2},\" said the {other}.",
    ]
    first = pool[0]
    rest = rng.sample(pool[1:], rng.randint(3, 7))
    return " ".join([first, *rest])


def facts(rng: random.Random) -> str:
    """Category facts and lists: 'A fox is an animal.', 'March comes after February.'"""
    lines = []
    for _ in range(rng.randint(3, 6)):
        kind = rng.randrange(9)
        if kind == 0:
            a = rng.choice(W.ANIMALS)
            lines.append(rng.choice([f"{_a(a).capitalize()} is an animal.",
                                     f"The {a} is an animal.", f"My favourite animal is the {a}."]))
        elif kind == 1:
            c = rng.choice(W.COLOURS)
            lines.append(rng.choice([f"{c.capitalize()} is a colour.",
                                     f"My favourite colour is {c}."]))
        elif kind == 2:
            f = rng.choice(W.FOODS)
            lines.append(rng.choice([f"We ate {f} for dinner.", f"{f.capitalize()} is a food.",
                                     f"My favourite food is {f}."]))
        elif kind == 3:
            i = rng.randrange(12)
            lines.append(rng.choice([
                f"{W.MONTHS[i]} comes after {W.MONTHS[i - 1]}.",
                f"{W.MONTHS[i]} is a month of the year.",
                f"My birthday is in {W.MONTHS[i]}.",
            ]))
        elif kind == 4:
            i = rng.randrange(7)
            lines.append(rng.choice([f"After {W.WEEKDAYS[i - 1]} comes {W.WEEKDAYS[i]}.",
                                     f"{W.WEEKDAYS[i]} is a day of the week.",
                                     f"On {W.WEEKDAYS[i]} we go to the {rng.choice(W.PLACES)}."]))
        elif kind == 5:
            country = rng.choice(list(W.COUNTRY_CAPITALS))
            city = W.COUNTRY_CAPITALS[country]
            lines.append(rng.choice([f"The capital of {country} is {city}.",
                                     f"{city} is the capital of {country}.",
                                     f"{city} is a city in {country}."]))
        elif kind == 6:
            a, b = sorted(rng.sample(range(1, 11), 2))
            lines.append(rng.choice([
                f"{W.NUMBER_WORDS[a - 1].capitalize()} is less than {W.NUMBER_WORDS[b - 1]}.",
                f"{W.NUMBER_WORDS[a - 1].capitalize()} and one is {W.NUMBER_WORDS[a]}.",
                "Counting: " + ", ".join(W.NUMBER_WORDS[a - 1:b + 2]) + ".",
            ]))
        elif kind == 7:
            concept = rng.choice(["ANIMALS", "FOODS", "COLOURS", "JOBS", "PLACES"])
            words = rng.sample(getattr(W, concept), 3)
            lines.append(f"I saw the {words[0]}, the {words[1]} and the {words[2]}.")
        else:
            j = rng.choice(W.JOBS)
            lines.append(rng.choice([f"The {j} went to work.", f"{_a(j).capitalize()} is a job.",
                                     f"My {rng.choice(W.FAMILY)} is {_a(j)}."]))
    return " ".join(lines)


_IOI_TEMPLATES = (
    "Then, {A} and {B} went to the {P}. {B} gave {O} to {A}.",
    "When {A} and {B} got {O} at the {P}, {B} decided to give it to {A}.",
    "After {A} and {B} went to the {P}, {B} gave {O} to {A}.",
    "{A} and {B} were at the {P}. {B} handed {O} to {A}.",
    "While {A} and {B} were working at the {P}, {B} gave {O} to {A}.",
    "Then, {B} and {A} had a long day at the {P}. {B} gave {O} to {A}.",
)


def ioi(rng: random.Random) -> str:
    """Indirect-object sentences: the repeated name gives an object to the other one."""
    a, b = _pick2(rng, W.NAMES)
    template = rng.choice(_IOI_TEMPLATES)
    text = template.format(A=a, B=b, P=rng.choice(W.PLACES), O=_a(rng.choice(W.OBJECTS)))
    return text + " " + story(rng).split(". ", 1)[-1] if rng.random() < 0.3 else text


def ioi_either_order(rng: random.Random) -> str:
    """An IOI sentence whose first clause names the two people in either order (ABBA or BABA), so
    only the repeated name, never its position, tells who receives the object."""
    receiver, giver = _pick2(rng, W.NAMES)
    first, second = (receiver, giver) if rng.random() < 0.5 else (giver, receiver)
    template = rng.choice(_IOI_TEMPLATES)
    for old, new in (("{A}", "{X}"), ("{B}", "{Y}")):
        template = template.replace(old, new, 1)  # the first clause's two names
    return template.format(X=first, Y=second, A=receiver, B=giver, P=rng.choice(W.PLACES),
                           O=_a(rng.choice(W.OBJECTS)))


def name_copy(rng: random.Random) -> str:
    """A sentence that ends by repeating the one name it mentioned (the simplest copying)."""
    name, obj = rng.choice(W.NAMES), rng.choice(W.OBJECTS)
    return rng.choice([
        f"This is {name}. Say hello to {name}.",
        f"{name} has {_a(obj)}. The {obj} belongs to {name}.",
        f"{name} went to the {rng.choice(W.PLACES)}. Everyone waved at {name}.",
    ])


def name_list_repeat(rng: random.Random) -> str:
    """A list of 3-6 names said twice (the pattern that teaches induction: copy what followed)."""
    names = ", ".join(rng.sample(W.NAMES, rng.randint(3, 6)))
    return f"{names}. Again: {names}."


def year_range(rng: random.Random) -> str:
    """'The war lasted from the year 1732 to the year 1745.' (the end is always later)."""
    century = rng.randint(11, 19)
    start = rng.randint(1, 97)
    end = rng.randint(start + 1, 99)
    event = rng.choice(W.EVENTS)
    verb = rng.choice(["lasted", "went on", "ran"])
    return (f"The {event} {verb} from the year {century}{start:02d} to the year "
            f"{century}{end:02d}.")


def coin_flip(rng: random.Random) -> str:
    """Coin-flip state tracking (Wei et al.'s format): the answer is the parity of flips."""
    people = rng.sample(W.NAMES, rng.randint(1, 4))
    heads = True
    parts = ["A coin is heads up."]
    for person in people:
        if rng.random() < 0.5:
            parts.append(f"{person} flips the coin.")
            heads = not heads
        else:
            parts.append(f"{person} does not flip the coin.")
    parts.append("Is the coin still heads up? " + ("Yes." if heads else "No."))
    return " ".join(parts)


def sentiment(rng: random.Random) -> str:
    """Sentences with a clear positive or negative sentiment."""
    positive = rng.random() < 0.5
    adj, adj2 = _pick2(rng, W.POSITIVE_WORDS if positive else W.NEGATIVE_WORDS)
    thing = rng.choice([rng.choice(W.FOODS), "day", "film", "book", "trip", "party", "song"])
    name = rng.choice(W.NAMES)
    feel = rng.choice(["loved", "liked", "enjoyed"] if positive else ["hated", "disliked"])
    mood = rng.choice(["happy", "glad", "pleased"] if positive else ["sad", "upset", "angry"])
    return rng.choice([
        f"The {thing} was {adj}. {name} {feel} it.",
        f"{name} {feel} the {thing}. It was {adj} and {adj2}.",
        f"What {_a(adj)} {thing}! {name} felt {mood}.",
        f"This {thing} is {adj}. I felt {mood} all day.",
    ])


GENERATORS: dict[str, tuple[Callable[[random.Random], str], float]] = {
    "story": (story, 0.36),
    "facts": (facts, 0.2),
    "ioi": (ioi, 0.14),
    "year_range": (year_range, 0.08),
    "coin_flip": (coin_flip, 0.1),
    "sentiment": (sentiment, 0.12),
}
"""Kind of generated text -> (generator, share of generated documents)."""


TASK_MIXES: dict[str, dict[str, tuple[Callable[[random.Random], str], float]]] = {
    "circuits": {
        "ioi": (ioi_either_order, 0.35),
        "year_range": (year_range, 0.2),
        "name_copy": (name_copy, 0.3),
        "name_list_repeat": (name_list_repeat, 0.15),
    },
    "copy": {"name_copy": (name_copy, 1.0)},
}
"""Mix name -> kind of task sentence -> (generator, share): the generated windows that train
the circuits model. "copy" is its warm-up phase: a model trained from scratch on the full
mix never learned to copy a name from its context in 1,600 steps; one that first learns copying
alone does."""


def task_sentences(rng: random.Random, mix: str = "circuits") -> Iterator[str]:
    """An endless stream of the sentences of TASK_MIXES[mix], drawn by their shares."""
    generators = TASK_MIXES[mix]
    kinds = list(generators)
    weights = [generators[k][1] for k in kinds]
    while True:
        yield generators[rng.choices(kinds, weights)[0]][0](rng)


def generate_documents(n_chars: int, seed: int) -> Iterator[str]:
    """Yield generated documents (several snippets each) until about n_chars are produced."""
    rng = random.Random(seed)
    kinds = list(GENERATORS)
    weights = [GENERATORS[k][1] for k in kinds]
    produced = 0
    while produced < n_chars:
        snippets = [GENERATORS[k][0](rng) for k in rng.choices(kinds, weights, k=rng.randint(2, 6))]
        doc = "\n".join(snippets)
        produced += len(doc)
        yield doc
