"""A tokenizer for clinical text: spaCy's English rules plus what radiology and nursing notes need.

Added to the English defaults: `2.3x1.8cm` splits into `2.3 x 1.8 cm`; `;` always splits (telegraphic notes:
`afebrile;no distress`); `:` splits after a word (`FINDINGS:There`); list bullets (`-`, `*`, `•`) and numbers
(`1.`, `2)`) split off the word they precede; clinical shorthand with a slash or periods (`s/p`, `c/o`, `p.o.`)
stays one token. Hyphenated words split (`Naloxone-induced` → `Naloxone - induced`) so that entity boundaries
fall on tokens; so do the chemistry notations around a name: a hanging hyphen (`ketamine- and cocaine-induced`),
ion charges (`K+`, `Ca(2+)`), isotope labels (`[3H]nicotine`), an isotope's mass (`thallium-201`) and `+`
between words (`saline+drug`). Registered as `hilum.clinical_tokenizer.v1`, so a saved pipeline (the shipped
NER model) names it in its config and rebuilds it on load. (scispaCy's `combined_rule_tokenizer` is not used: its
suffix regex raises a FutureWarning on Python 3.11, and it keeps hyphenated words whole.)
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

with warnings.catch_warnings():
    # spaCy 3.7 imports a name click 8.2+ deprecates (third party)
    warnings.filterwarnings("ignore", r"Importing 'parser\.split_arg_string' is deprecated", DeprecationWarning)
    import spacy
from spacy.lang import char_classes
from spacy.language import Language
from spacy.symbols import ORTH
from spacy.tokenizer import Tokenizer
from spacy.util import compile_infix_regex, compile_prefix_regex, compile_suffix_regex

_ALPHA = char_classes.ALPHA
_ISOTOPE = r"\[\(?[0-9]{1,3}\)?[A-Z][a-z]?\]"  # an isotope label: [3H], [(3)H], [125I]
EXTRA_INFIXES = [
    r"(?<=[0-9])[xX×](?=[0-9.])",  # 2.3x1.8
    r";",
    rf"(?<=[{_ALPHA}]):(?=[{_ALPHA}0-9])",  # FINDINGS:There
    rf"(?<=[{_ALPHA}])/(?=[0-9])",  # nodule/2
    rf"(?<=[0-9])/(?=[{_ALPHA}])",  # 5/day
    rf"(?<=[{_ALPHA}0-9])[)\]](?=-[{_ALPHA}])",  # the ) of (PAN)-induced
    rf"(?<=[)\]])-(?=[{_ALPHA}])",  # (PAN)-induced
    rf"(?<=[{char_classes.ALPHA_LOWER}]{{3}})-(?=[0-9]+[A-Za-z]?$)",  # thallium-201 (not glucose-6-phosphate)
    rf"(?<=[{_ALPHA}])\+(?=[{_ALPHA}])",  # saline+drug
    _ISOTOPE,  # L-[3H]nicotine
]
EXTRA_PREFIXES = [rf"[-*•·](?=[{_ALPHA}])", rf"[0-9]{{1,2}}[.)](?=[{_ALPHA}])", _ISOTOPE]
EXTRA_SUFFIXES = [
    r"(?<=[0-9])[xX×]",  # "2.3x 1.8"
    rf"(?<=[{char_classes.ALPHA_LOWER}][{char_classes.ALPHA_UPPER}])\.",  # "AmB."
    rf"(?<=[{_ALPHA}]{{2}})-",  # "ketamine- and cocaine-induced"
    rf"(?<=[{_ALPHA}])\+",  # "K+", "drug+ users"
    r"\([0-9]?[+-]\)",  # "Ca(2+)", "Na(+)"
]
SHORTHAND = [
    "s/p", "S/P", "c/o", "C/O", "h/o", "H/O", "r/o", "R/O", "w/o", "W/O", "w/", "W/", "n/v", "N/V", "a/w",
    "b/l", "B/L", "p.o.", "P.O.", "b.i.d.", "t.i.d.", "q.i.d.", "q.d.", "p.r.n.", "i.v.", "I.V.", "e.g.",
    "i.e.", "vs.", "approx.", "hx.", "Dr.", "y.o.", "y/o", "Y/O",
]  # fmt: skip


def clinical_tokenizer(nlp: Language) -> Tokenizer:
    """The clinical tokenizer for `nlp`'s vocabulary (English rules + the additions above)."""
    defaults = nlp.Defaults
    exceptions = dict(defaults.tokenizer_exceptions)
    exceptions.update({form: [{ORTH: form}] for form in SHORTHAND})
    return Tokenizer(
        nlp.vocab,
        exceptions,
        prefix_search=compile_prefix_regex(EXTRA_PREFIXES + list(defaults.prefixes or [])).search,
        suffix_search=compile_suffix_regex([*(defaults.suffixes or []), *EXTRA_SUFFIXES]).search,
        infix_finditer=compile_infix_regex(EXTRA_INFIXES + list(defaults.infixes or [])).finditer,
        token_match=defaults.token_match,
        url_match=defaults.url_match,
    )


@spacy.registry.tokenizers("hilum.clinical_tokenizer.v1")
def create_clinical_tokenizer() -> Callable[[Language], Tokenizer]:
    """spaCy registry entry: `[nlp.tokenizer] @tokenizers = "hilum.clinical_tokenizer.v1"`."""
    return clinical_tokenizer
