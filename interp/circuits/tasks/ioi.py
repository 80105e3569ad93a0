"""Indirect object identification (Wang et al. 2022), built as in O'Neill & Bui's data/ioi.py.

Positive: "Then, B and A went to the store. B gave a ring to" -> " A" (A is the indirect
object, B the subject). Negatives (corrupt=):
- "paper" (O'Neill & Bui's gen_prompt_counterfact): every mention of A becomes a third name C
  and then the first mention of B becomes A: "Then, A and C went to the store. B gave a ring
  to" -- three distinct names, no repeated one, so nothing says who receives;
- "s1": only the first mention of B becomes C ("Then, C and A went ... B gave a ring to");
- "s2": the second mention of B becomes C ("Then, B and A went ... C gave a ring to"): a model
  that finds the receiver by excluding the giver's name still solves the first two kinds;
- "abc" (Wang et al.'s ABC distribution): three fresh names C, D, E, none of them A or B, for
  IO, S1 and S2 ("Then, D and C went ... E gave a ring to"): neither answer is in the context.
Metric: logit(A) - logit(B).
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

from interp.circuits.tasks.base import Task, require, single_token, single_tokens

if TYPE_CHECKING:
    from torch import Tensor

    from interp.models.model import Model

NAMES = [
    "Michael", "Christopher", "Jessica", "Matthew", "Ashley", "Jennifer", "Joshua", "Amanda",
    "Daniel", "David", "James", "Robert", "John", "Joseph", "Andrew", "Ryan", "Brandon", "Jason",
    "Justin", "Sarah", "William", "Jonathan", "Stephanie", "Brian", "Nicole", "Nicholas",
    "Anthony", "Heather", "Eric", "Elizabeth", "Adam", "Megan", "Melissa", "Kevin", "Steven",
    "Thomas", "Timothy", "Christina", "Kyle", "Rachel", "Laura", "Lauren", "Amber", "Brittany",
    "Danielle", "Richard", "Kimberly", "Jeffrey", "Amy", "Crystal", "Michelle", "Tiffany",
    "Jeremy", "Benjamin", "Mark", "Emily", "Aaron", "Charles", "Rebecca", "Jacob", "Stephen",
    "Patrick", "Sean", "Erin", "Jamie", "Kelly", "Samantha", "Nathan", "Sara", "Dustin", "Paul",
    "Angela", "Tyler", "Scott", "Katherine", "Andrea", "Gregory", "Erica", "Mary", "Travis",
    "Lisa", "Kenneth", "Bryan", "Lindsey", "Kristen", "Jose", "Alexander", "Jesse", "Katie",
    "Lindsay", "Shannon", "Vanessa", "Courtney", "Christine", "Alicia", "Cody", "Allison",
    "Bradley", "Samuel",
]
PLACES = ("store", "garden", "restaurant", "school", "hospital", "office", "house", "station")
OBJECTS = ("ring", "kiss", "bone", "basketball", "computer", "necklace", "drink", "snack")

#: BABA templates of the IOI paper ([B] = subject, [A] = indirect object), answer cut off.
BABA = (
    "Then, [B] and [A] went to the [PLACE]. [B] gave a [OBJECT] to",
    "Then, [B] and [A] had a lot of fun at the [PLACE]. [B] gave a [OBJECT] to",
    "Then, [B] and [A] were working at the [PLACE]. [B] decided to give a [OBJECT] to",
    "Then, [B] and [A] were thinking about going to the [PLACE]. [B] wanted to give a [OBJECT] to",
    "Then, [B] and [A] had a long argument, and afterwards [B] said to",
    "After [B] and [A] went to the [PLACE], [B] gave a [OBJECT] to",
    "When [B] and [A] got a [OBJECT] at the [PLACE], [B] decided to give it to",
    "When [B] and [A] got a [OBJECT] at the [PLACE], [B] decided to give the [OBJECT] to",
    "While [B] and [A] were working at the [PLACE], [B] gave a [OBJECT] to",
    "While [B] and [A] were commuting to the [PLACE], [B] gave a [OBJECT] to",
    "After the lunch, [B] and [A] went to the [PLACE]. [B] gave a [OBJECT] to",
    "Afterwards, [B] and [A] went to the [PLACE]. [B] gave a [OBJECT] to",
    "Then, [B] and [A] had a long argument. Afterwards [B] said to",
    "The [PLACE] [B] and [A] went to had a [OBJECT]. [B] gave it to",
    "Friends [B] and [A] found a [OBJECT] at the [PLACE]. [B] gave it to",
)
#: ABBA: the two names of the first clause swapped.
ABBA = tuple(t.replace("[B] and [A]", "[A] and [B]", 1) for t in BABA)
#: The IOI sentences in interp-tiny's training corpus (interp.bundled.stories).
BUNDLED = (
    "Then, [A] and [B] went to the [PLACE]. [B] gave a [OBJECT] to",
    "When [A] and [B] got a [OBJECT] at the [PLACE], [B] decided to give it to",
    "After [A] and [B] went to the [PLACE], [B] gave a [OBJECT] to",
    "[A] and [B] were at the [PLACE]. [B] handed a [OBJECT] to",
    "While [A] and [B] were working at the [PLACE], [B] gave a [OBJECT] to",
    "Then, [B] and [A] had a long day at the [PLACE]. [B] gave a [OBJECT] to",
)
TEMPLATE_SETS = {"paper": ABBA + BABA, "abba": ABBA, "baba": BABA, "bundled": BUNDLED}
WORD_SETS = ("paper", "bundled")
CORRUPTIONS = ("paper", "s1", "s2", "abc")


def _words(which: str) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """(names, places, objects): the paper's, or those of interp-tiny's corpus."""
    if which == "bundled":
        from interp.texts import wordlists as W

        objects = tuple(o for o in W.OBJECTS if o[0] not in "aeiou")  # templates say "a"
        return tuple(W.NAMES), tuple(W.PLACES), objects
    return tuple(NAMES), PLACES, OBJECTS


def ioi_task(
    model: Model, n: int = 50, seed: int = 0, *, words: str = "paper",
    templates: str | tuple[str, ...] | None = None,
    names: tuple[str, ...] | list[str] | None = None, corrupt: str = "paper",
) -> Task:
    """n positive/negative IOI pairs with names that are single tokens (after a space) for
    this model. words: "paper" (O'Neill & Bui's names, places, objects and ABBA + BABA
    templates) or "bundled" (those of interp-tiny's corpus); templates: "paper", "abba",
    "baba", "bundled" or your own tuple using [A], [B], [PLACE], [OBJECT]; names: your own;
    corrupt: how a negative is made (module docstring): "paper" (A's mentions become C, the
    first mention of B becomes A), "s1" or "s2" (that mention of B becomes C), "abc" (fresh
    names for IO, S1 and S2)."""
    from interp.errors import choices_error

    if words not in WORD_SETS:
        raise choices_error("IOI word set", words, WORD_SETS)
    if corrupt not in CORRUPTIONS:
        raise choices_error("IOI corruption", corrupt, CORRUPTIONS)
    default_names, places, objects = _words(words)
    names = default_names if names is None else names
    templates = words if templates is None else templates
    if isinstance(templates, str):
        if templates not in TEMPLATE_SETS:
            raise choices_error("IOI template set", templates, TEMPLATE_SETS)
        templates = TEMPLATE_SETS[templates]
    tok = model.tokenizer
    n_names = 5 if corrupt == "abc" else 3
    pool = require(single_tokens(tok, list(names)), n_names, "names", "ioi", len(names))
    rng = random.Random(seed)
    pos, neg, good, bad, meta = [], [], [], [], []
    for _ in range(n):
        template = rng.choice(templates)
        a, b, c, *fresh = rng.sample(pool, n_names)
        text = template.replace("[PLACE]", rng.choice(places)).replace(
            "[OBJECT]", rng.choice(objects))
        positive = text.replace("[A]", a).replace("[B]", b)
        if corrupt == "abc":  # IO -> C, the first B -> D, every later B -> E
            first = text.index("[B]")
            negative = (text[:first] + fresh[0] + text[first + 3:]).replace(
                "[A]", c).replace("[B]", fresh[1])
        else:
            # three distinct names, as ABC. The paper replaces the first textual occurrence of
            # B's name after filling in C for A; here the slot is replaced, so a name that is
            # part of another ("Sara" in "Sarah") cannot be hit instead.
            at = text.rindex("[B]") if corrupt == "s2" else text.index("[B]")
            slot, others = (a, c) if corrupt == "paper" else (c, a)  # that B slot; the A slots
            negative = (text[:at] + slot + text[at + 3:]).replace("[A]", others).replace(
                "[B]", b)
        pos.append(positive)
        neg.append(negative)
        good.append([single_token(tok, " " + a, "name")])
        bad.append([single_token(tok, " " + b, "name")])
        meta.append({"io": a, "s": b, "corrupt": [c, *fresh] if fresh else c,
                     "template": templates.index(template)})
    return Task("ioi", pos, neg, good, bad, "logit_diff", meta)


#: Named positions of an IOI prompt (Wang et al. 2022): the indirect object, the subject's
#: first mention and the token after it, the subject's second mention, the last token.
IOI_POSITIONS = ("IO", "S1", "S1+1", "S2", "END")


def ioi_positions(model: Model, task: Task) -> dict[str, Tensor]:
    """Each prompt's index of every IOI_POSITIONS name, {name: [n_prompts] long}, found in
    its text (the IO's name once, the subject's twice, as whole words) and mapped to tokens
    by the tokenizer's character offsets, so prompts of different templates align by role,
    not by index. A name's position is its last token. InterpError if a prompt does not
    have that shape."""
    import re

    import torch

    from interp.errors import InterpError

    tok = model.tokenizer
    out: dict[str, list[int]] = {k: [] for k in IOI_POSITIONS}
    for i, text in enumerate(task.positives):
        ids = model.to_tokens(text)[0].tolist()
        enc = tok(text, return_offsets_mapping=True, add_special_tokens=False)
        shift = len(ids) - len(enc["input_ids"])
        if shift < 0 or ids[shift:] != list(enc["input_ids"]):
            raise InterpError(f"IOI prompt {i} ({text!r}) tokenizes differently with offsets; "
                              "positions need a fast tokenizer")
        starts = [a for a, _ in enc["offset_mapping"]]
        found = []
        for answer in (task.good[i], task.bad[i]):
            name = tok.decode(answer[:1]).strip()
            ends = [m.end() for m in re.finditer(rf"(?<!\w){re.escape(name)}(?!\w)", text)]
            found.append([shift + max(t for t, a in enumerate(starts) if a < e) for e in ends])
        io, s = found
        if len(io) != 1 or len(s) != 2:
            raise InterpError(f"IOI prompt {i} ({text!r}) has its IO name {len(io)} and its "
                              f"subject {len(s)} times; positions need 1 and 2")
        for key, at in zip(IOI_POSITIONS, (io[0], s[0], s[0] + 1, s[1], len(ids) - 1)):
            out[key].append(at)
    return {k: torch.tensor(v) for k, v in out.items()}
