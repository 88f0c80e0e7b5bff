"""Assertion of every entity (`hilum_context`): present, negated, uncertain, historical, hypothetical, family.

ConText-style rules (Harkema et al. 2009, the algorithm medspaCy implements): trigger phrases of a category look
forward or backward from where they stand, within the sentence, until a termination word (`but`, `however`,
`which`...) or `window` tokens; pseudo-triggers (`no change`, `not only`) trigger nothing. Entities in a family
history section are `family`, in a past medical history section `historical`. When several categories reach an
entity the strongest wins: negated > family > hypothetical > uncertain > historical.
"""

import json
from collections import defaultdict
from functools import lru_cache
from pathlib import Path
from typing import Any

from spacy.language import Language
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc

from annotators.text.errors import PipelineConfigError
from annotators.text.extensions import ASSERTIONS, register
from annotators.text.sections import sentence_ids

RULES_FILE = Path(__file__).parent / "data" / "context_rules.json"
PRIORITY = ("negated", "family", "hypothetical", "uncertain", "historical")
DIRECTIONS = ("forward", "backward", "both", "terminate", "pseudo")
SECTION_ASSERTIONS = {"family_history": "family", "past_medical_history": "historical"}


@lru_cache(maxsize=4)
def load_rules(path: Path = RULES_FILE) -> tuple[tuple[str, str, str], ...]:
    """Validated rules: (phrase, category, direction); category `-` for terminate/pseudo rules."""
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
        rules = data["rules"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise PipelineConfigError(f"cannot read the ConText rules {path}: {exc}") from exc
    out = []
    for number, rule in enumerate(rules, 1):
        if not isinstance(rule, list) or len(rule) != 3 or not all(isinstance(x, str) for x in rule):
            raise PipelineConfigError(f"{path}: rule #{number} must be [phrase, category, direction]")
        phrase, category, direction = rule
        if direction not in DIRECTIONS or (direction in DIRECTIONS[:3] and category not in PRIORITY):
            raise PipelineConfigError(f"{path}: rule #{number} ({phrase!r}): bad category or direction")
        out.append((phrase, category, direction))
    return tuple(out)


class ContextAnnotator:
    """Sets `span._.hilum_assertion` on every entity (see the module docstring)."""

    def __init__(self, nlp: Language, window: int = 12) -> None:
        self.window = window
        self.matcher = PhraseMatcher(nlp.vocab, attr="LOWER")
        self.meaning: dict[int, tuple[str, str]] = {}
        grouped: dict[tuple[str, str], list[str]] = {}
        for phrase, category, direction in load_rules():
            grouped.setdefault((category, direction), []).append(phrase)
        for (category, direction), phrases in grouped.items():
            label = f"context|{category}|{direction}"
            self.meaning[nlp.vocab.strings.add(label)] = (category, direction)
            self.matcher.add(label, [nlp.make_doc(phrase) for phrase in phrases])

    def __call__(self, doc: Doc) -> Doc:
        """Assign an assertion to each entity of `doc`."""
        if not doc.ents:
            return doc
        triggers = []
        pseudo: set[int] = set()
        for key, start, end in sorted(self.matcher(doc), key=lambda m: (m[1], -m[2])):
            category, direction = self.meaning[key]
            if direction == "pseudo":
                pseudo.update(range(start, end))
            elif start not in pseudo:
                triggers.append((start, end, category, direction))
        sentence = sentence_ids(doc)
        by_sentence: dict[int, list[tuple[int, int, str, str]]] = defaultdict(list)
        for trigger in triggers:
            by_sentence[sentence[trigger[0]]].append(trigger)
        for ent in doc.ents:
            found = self._categories(ent.start, ent.end, by_sentence.get(sentence[ent.start], []))
            section = SECTION_ASSERTIONS.get(ent._.hilum_section or "")
            if section:
                found.add(section)
            ent._.hilum_assertion = next((c for c in PRIORITY if c in found), ASSERTIONS[0])
        return doc

    def _categories(self, start: int, end: int, triggers: list[tuple[int, int, str, str]]) -> set[str]:
        """Categories whose triggers (of the entity's sentence) reach the entity at tokens start..end."""
        terminators = [t[0] for t in triggers if t[3] == "terminate"]
        found: set[str] = set()
        for t_start, t_end, category, direction in triggers:
            if direction == "terminate" or (t_start < end and t_end > start):
                continue
            if direction in ("forward", "both") and t_end <= start and start - t_end <= self.window:
                if not any(t_end <= term < start for term in terminators):
                    found.add(category)
            if direction in ("backward", "both") and t_start >= end and t_start - end <= self.window:
                if not any(end <= term < t_start for term in terminators):
                    found.add(category)
        return found


@Language.factory("hilum_context", default_config={"window": 12})
def make_context(nlp: Language, name: str, window: int) -> ContextAnnotator:
    """Factory of the `hilum_context` component."""
    register()
    return ContextAnnotator(nlp, window)
