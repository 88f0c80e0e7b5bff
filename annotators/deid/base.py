"""The shared recognizer contract: a Presidio `EntityRecognizer` that yields `(start, end, score)` triples."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from presidio_analyzer import EntityRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts

from annotators.deid.lexicon import Lexicon

VERSION = "0.1.0"

Hit = tuple[int, int, float]


class HilumRecognizer(EntityRecognizer):
    """Base class of Hilum's PHI recognizers: subclasses set `NAME`, `LABEL` and implement `find`."""

    NAME = "hilum_base"
    LABEL = "ID"

    def __init__(self, lexicon: Lexicon, language: str = "en") -> None:
        self.lexicon = lexicon
        super().__init__(
            supported_entities=[self.LABEL], name=self.NAME, supported_language=language, version=VERSION
        )

    def load(self) -> None:
        """Nothing to load: the lexicon is built before the recognizer."""

    def find(self, text: str) -> Iterable[Hit]:
        """Yield `(start, end, score)` for every PHI mention of this recognizer's label in `text`."""
        raise NotImplementedError

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        """Presidio entry point: wrap `find` hits as `RecognizerResult`s carrying this recognizer's name."""
        if entities and self.LABEL not in entities:
            return []
        meta = {
            RecognizerResult.RECOGNIZER_NAME_KEY: self.NAME,
            RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
        }
        return [
            RecognizerResult(self.LABEL, start, end, score, recognition_metadata=dict(meta))
            for start, end, score in self.find(text)
            if end > start
        ]


def regex_hits(
    pattern_scores: Iterable[tuple[object, float]], text: str, group: int | str = 0
) -> Iterator[Hit]:
    """Hits of several compiled patterns, each with its own score, taking `group` of each match."""
    for pattern, score in pattern_scores:
        for match in pattern.finditer(text):  # type: ignore[attr-defined]
            grp = group if match.re.groupindex.get("phi") is None else "phi"
            start, end = match.span(grp)
            if start >= 0:
                yield start, end, score
