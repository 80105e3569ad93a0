"""Hand-made concept word lists: plain English words, one list per concept.

The bundled toy models' generated corpus (interp.bundled.stories) is written with them, so they
learned exactly these concepts; steering concepts, concept-depth datasets, IOI names and the
model cards read the same lists for every model.
"""

from __future__ import annotations

ANIMALS = (
    "dog cat horse cow pig sheep goat duck chicken rabbit mouse fox wolf bear lion tiger "
    "elephant monkey zebra giraffe deer frog snake fish bird owl eagle whale dolphin shark "
    "turtle bee ant spider camel donkey squirrel seal penguin parrot"
).split()

COLOURS = "red blue green yellow orange purple pink brown black white grey gold silver".split()

FOODS = (
    "bread cake apple banana cheese soup rice milk egg pie cookie pizza carrot honey butter "
    "tea coffee grape pear plum corn beans potato tomato salad candy jam pasta lemon cherry"
).split()

MONTHS = (
    "January February March April May June July August September October November December"
).split()

WEEKDAYS = "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split()

NUMBER_WORDS = (
    "one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen twenty"
).split()

FAMILY = "mother father sister brother aunt uncle grandmother grandfather baby cousin".split()

JOBS = (
    "doctor teacher farmer baker driver nurse cook pilot king queen sailor painter singer "
    "writer soldier fisherman carpenter dancer"
).split()

PLACES = (
    "park school store market river forest beach garden house farm city village library "
    "kitchen hill lake zoo station castle church"
).split()

OBJECTS = (
    "book ball hat box cup key kite drum letter ring basket bag coat toy flower map pen "
    "bottle lamp bell"
).split()

NAMES = (
    "Mary John Anna Tom Lucy James Sarah David Emma Jack Kate Paul Alice Bob Lily Sam Ben "
    "Grace Max Rose Mike Jane Peter Susan Mark Laura Dan Amy Tim Eve"
).split()

COUNTRY_CAPITALS = {
    "France": "Paris", "Germany": "Berlin", "Italy": "Rome", "Spain": "Madrid",
    "England": "London", "Japan": "Tokyo", "China": "Beijing", "Russia": "Moscow",
    "Egypt": "Cairo", "Greece": "Athens", "Ireland": "Dublin", "Poland": "Warsaw",
    "Norway": "Oslo", "Sweden": "Stockholm", "Portugal": "Lisbon", "Austria": "Vienna",
    "Canada": "Ottawa", "Mexico": "Mexico City", "Peru": "Lima", "Chile": "Santiago",
    "Kenya": "Nairobi", "India": "Delhi", "Turkey": "Ankara", "Cuba": "Havana",
}

POSITIVE_WORDS = (
    "good great wonderful lovely happy beautiful delicious kind nice excellent perfect "
    "amazing pleasant cheerful sweet brilliant"
).split()

NEGATIVE_WORDS = (
    "bad terrible awful sad ugly horrible nasty cruel rude boring dreadful poor miserable "
    "gloomy bitter angry"
).split()

EVENTS = (
    "war drought journey famine expedition reign strike siege voyage construction "
    "festival trial"
).split()

CONCEPTS: dict[str, tuple[str, ...] | list[str]] = {
    "animal": ANIMALS,
    "colour": COLOURS,
    "food": FOODS,
    "month": MONTHS,
    "weekday": WEEKDAYS,
    "number": NUMBER_WORDS,
    "family": FAMILY,
    "job": JOBS,
    "place": PLACES,
    "name": NAMES,
    "country": list(COUNTRY_CAPITALS),
}
"""Concept name -> its words: the labels that maps, probes and the model card search for."""
