"""spaCy NER findings as PHI, kept only when the words look like a proper name and not like clinical shorthand.

spaCy's news-trained model tags most of a nursing note's abbreviations, drugs and misspellings as PERSON, ORG
or GPE (`Abd`, `NSR`, `Carevue`, `Permacath`), while on well-formed prose it finds the names, places and
organisations that a lexicon misses. So a finding is kept only when every word is written like a proper noun
(Title Case; ALL CAPS only for a known place of five letters or more), no word is clinical vocabulary or one
of the most frequent English words, and the lexicon corroborates the label: a person span holds a known name
or two unknown words, a place is a GeoNames city or country, an organisation has two proper words or more.
"""

from __future__ import annotations

import re

from presidio_analyzer import EntityRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts

from annotators.deid.base import VERSION
from annotators.deid.lexicon import Lexicon

_WORD = re.compile(r"[^\W\d_](?:[^\W\d_]|['’])*")
# Lower-case joining words inside organisation and place names (`Bank of America`, `Rua do Sol`).
_JOINERS = frozenset("and of the de du da do dos das la le del der den von van y e & für".split())
_TRIM = " \t\n.,;:()[]\"'“”‘’-"
# Clinical verbs and nouns run together with a name-like word (`Voided`, `Sating`), never a person.
_VERB_ENDING = re.compile(r"(?:ed|ing|tion|ment|ness|ity|ly)\Z")
# A finding never spans two lines or two sentences (the dot of an initial, `J. Smith`, is no break).
_BREAK = re.compile(r"\n|[!?;:]\s|(?<!\b[^\W\d_])\.\s")
SCORE = 0.6


def _proper(word: str) -> bool:
    """Title Case or an inner capital (`Smith`, `McDonald`, `O'Brien`), not ALL CAPS or lower case."""
    return word[0].isupper() and not word.isupper()


def plausible(label: str, phrase: str, lexicon: Lexicon) -> bool:
    """True when an NER `phrase` tagged `label` (a Hilum label) reads as PHI rather than clinical text."""
    if not phrase or _BREAK.search(phrase) or any(c.isdigit() for c in phrase):
        return False
    words = _WORD.findall(phrase)
    low_phrase = phrase.lower()
    place = label in ("LOCATION", "ADDRESS") and len(phrase) > 2 and low_phrase in lexicon.world_places
    long_words, named, rare = 0, 0, 0
    for word in words:
        low = word.lower()
        if len(word) == 1:
            continue
        if low in _JOINERS and label != "NAME" and long_words:
            continue
        if not (_proper(word) or (place and word.isupper() and len(word) > 4 and not lexicon.is_common(low))):
            return False
        if low in lexicon.stop_words or (lexicon.is_medical(low) and not lexicon.is_plain_name(low)):
            return False
        if label == "NAME" and _VERB_ENDING.search(low):
            return False
        long_words += 1
        named += lexicon.is_name(low) and (len(low) > 2 or long_words > 1)
        rare += not lexicon.is_common(low) or low in lexicon.name_like
    if not long_words or len(words) > 6:
        return False
    if label == "NAME":
        if long_words == 1:
            return named > 0 and rare > 0
        return (named > 0 and rare > 0) or rare == long_words
    if label in ("LOCATION", "ADDRESS"):
        return place or (long_words >= 2 and rare == long_words)
    return long_words >= 2 and rare > 0


class NerRecognizer(EntityRecognizer):
    """The spaCy model's PERSON / GPE / LOC / ORG / FAC findings (already mapped to Hilum labels by the NLP
    engine), filtered by `plausible`."""

    NAME = "hilum_ner"

    def __init__(self, lexicon: Lexicon, labels: list[str], language: str = "en") -> None:
        self.lexicon = lexicon
        super().__init__(
            supported_entities=sorted(set(labels)), name=self.NAME, supported_language=language, version=VERSION
        )

    def load(self) -> None:
        """Nothing to load: the model runs in the NLP engine, the lexicon is built before."""

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        """Presidio entry point: the plausible NER spans of the supported labels, trimmed of punctuation."""
        if nlp_artifacts is None:
            return []
        meta = {
            RecognizerResult.RECOGNIZER_NAME_KEY: self.NAME,
            RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
        }
        results = []
        for ent in nlp_artifacts.entities:
            label = ent.label_
            if label not in self.supported_entities or (entities and label not in entities):
                continue
            start, end = ent.start_char, ent.end_char
            while start < end and text[start] in _TRIM:
                start += 1
            while end > start and text[end - 1] in _TRIM:
                end -= 1
            if plausible(label, text[start:end], self.lexicon):
                results.append(RecognizerResult(label, start, end, SCORE, recognition_metadata=dict(meta)))
        return results
