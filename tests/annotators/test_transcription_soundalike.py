"""The sound-only correction rules (whole terms, doubtful common words), plurals before a plural verb, exact
joins, glued word pieces. Every correction is recorded and undoes. No model is loaded here."""

from __future__ import annotations

import pytest

from annotators.transcription.correction import correct, revert
from annotators.transcription.phonetics import similarity, sound_score
from annotators.transcription.result import Word, join_words
from annotators.transcription.vocabulary import Vocabulary, from_ontology


@pytest.fixture(scope="module")
def vocab() -> Vocabulary:
    return from_ontology()


def heard(text: str, doubt: dict[str, float] | None = None) -> list[Word]:
    """Words one second apart, probability 0.6 unless `doubt` names another."""
    return [Word(float(i), i + 0.8, t, (doubt or {}).get(t, 0.6)) for i, t in enumerate(text.split())]


def check(vocab: Vocabulary, words: list[Word], expected: str, rules: list[str]) -> None:
    fixed, corrections = correct(words, vocab)
    assert join_words(fixed) == expected
    assert [c.rule for c in corrections] == rules
    assert revert(fixed, corrections) == words  # every correction undoes, timings and all


@pytest.mark.parametrize(
    "text, expected",
    [
        # a multi-word term heard as one word, or as other words none of which is a vocabulary word
        ("Mild subsegmentalatelectasis.", "Mild subsegmental atelectasis."),
        ("Bye basillar telectasis is seen.", "Bibasilar atelectasis is seen."),
    ],
)
def test_a_whole_term_heard_as_other_words(vocab: Vocabulary, text: str, expected: str) -> None:
    check(vocab, heard(text), expected, ["whole"])


def test_a_whole_term_keeps_the_stretch_timing(vocab: Vocabulary) -> None:
    fixed, (fix,) = correct(heard("Bye basillar telectasis is seen."), vocab)
    assert (fixed[0].start, fixed[0].end) == (0.0, 2.8) and fix.to_dict()["original"] == "Bye basillar telectasis"


@pytest.mark.parametrize(
    "text",
    [
        "The patient was sent home in a car.",
        "No new fetal hemorrhage.",
        "Right upper lobe and right lower lobe are clear.",  # vocabulary words are never part of a whole stretch
    ],
)
def test_ordinary_words_are_no_whole_term(vocab: Vocabulary, text: str) -> None:
    check(vocab, heard(text), text, [])


@pytest.mark.parametrize(
    "prob, expected, rules",
    [
        (0.1, "Linear scarring at the apex.", ["doubt"]),  # barely believed, and reads almost like a term word
        (0.8, "Linear starring at the apex.", []),  # the engine believed it: what was said
    ],
)
def test_a_doubtful_common_word(vocab: Vocabulary, prob: float, expected: str, rules: list[str]) -> None:
    check(vocab, heard("Linear starring at the apex.", {"starring": prob}), expected, rules)


@pytest.mark.parametrize(
    "text, prob, expected, rules",
    [
        ("The cardiac contour are normal.", 0.4, "The cardiac contours are normal.", ["plural"]),
        ("The cardiac contour are normal.", 0.97, "The cardiac contour are normal.", []),  # sure of what it heard
        ("Heart size and mediastinal contour are normal.", 0.4, "Heart size and mediastinal contour are normal.", []),
        ("The margins of the lung are clear.", 0.4, "The margins of the lung are clear.", []),  # another subject
        ("The cardiac contorn are normal.", 0.4, "The cardiac contours are normal.", ["term:cardiac contour+plural"]),
        ("Normal, the lung are clear.", 0.4, "Normal, the lungs are clear.", ["plural"]),  # a comma starts a clause
        (
            "Cardiac and mediastinal silhouette are normal.",
            0.4,
            "Cardiac and mediastinal silhouettes are normal.",
            ["plural"],
        ),  # two adjectives: two silhouettes
    ],
)
def test_a_singular_before_a_plural_verb(
    vocab: Vocabulary, text: str, prob: float, expected: str, rules: list[str]
) -> None:
    check(vocab, heard(text, {"contour": prob, "contorn": prob, "lung": prob}), expected, rules)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("The lungs are hyper expanded.", "The lungs are hyperexpanded."),  # parts common, the join exact
        ("There is a peri hilar opacity.", "There is a perihilar opacity."),  # the article stays a word
        ("Mild a telectasis.", "Mild atelectasis."),  # unless the term starts with it
    ],
)
def test_a_vocabulary_word_written_apart(vocab: Vocabulary, text: str, expected: str) -> None:
    check(vocab, heard(text), expected, ["merge"])


def test_a_long_word_spelt_by_ear_matches_by_its_consonants(vocab: Vocabulary) -> None:
    check(vocab, heard("Lumbar leevoskoleeosis."), "Lumbar levoscoliosis.", ["spelling"])
    assert sound_score("leevoskoleeosis", "levoscoliosis") > similarity("leevoskoleeosis", "levoscoliosis")
    assert (
        sound_score("byebasillartelectasis", "bibasilar atelectasis") >= 0.78 > sound_score("paperwork", "pneumothorax")
    )


def test_a_piece_glued_to_the_word_before_is_one_heard_word(vocab: Vocabulary) -> None:
    words = heard("Stable calcified grade -loma here.", {"grade": 0.95})
    words[3] = Word(3.0, 3.8, "-loma", 0.5, "")  # whisper's continuation piece: no space before it
    fixed, (fix,) = correct(words, vocab)
    assert join_words(fixed) == "Stable calcified granuloma here." and fix.rule == "term:calcified granuloma"
    assert revert(fixed, [fix]) == words
    words[3] = Word(3.0, 3.8, "loma", 0.5, " ")  # two words: the split needs a closer match
    assert join_words(correct(words, vocab)[0]) == "Stable calcified grade loma here."


def test_a_function_word_is_not_half_of_a_split_term_word(vocab: Vocabulary) -> None:
    check(
        vocab,
        heard("No consolidation or plural effusions."),
        "No consolidation or pleural effusions.",
        ["term:pleural effusions"],
    )


@pytest.mark.parametrize(
    "text, doubt, expected, rules",
    [
        # common words the engine doubted, together the sound of one rare vocabulary word
        ("There is media still shift.", {"media": 0.3, "still": 0.4}, "There is mediastinal shift.", ["merge"]),
        ("The media still is shifted.", {"media": 0.3, "still": 0.4}, "The mediastinum is shifted.",
         ["merge+noun"]),
        # the doubt is the words' joint probability: one barely believed word outweighs a fairly sure one
        ("The media still is unremarkable.", {"media": 0.5, "still": 0.8}, "The mediastinum is unremarkable.",
         ["merge+noun"]),
        # an "-al" adjective cannot be the subject: its "-um" noun when the engine doubted it
        ("The mediastinal is shifted.", {"mediastinal": 0.3}, "The mediastinum is shifted.", ["noun"]),
        # an English plural of a classical noun: the lexicon's plural
        ("No pneumothoraxes.", {}, "No pneumothoraces.", ["plural"]),
        ("Both apexes are clear.", {}, "Both apices are clear.", ["plural"]),
    ],
)
def test_doubted_splits_subject_nouns_and_classical_plurals(vocab: Vocabulary, text: str, doubt: dict[str, float],
                                                            expected: str, rules: list[str]) -> None:
    check(vocab, heard(text, doubt), expected, rules)


@pytest.mark.parametrize(
    "text, doubt",
    [
        ("The media still report it.", {"media": 0.95, "still": 0.95}),  # words the engine was sure of
        ("The media still report it.", {"media": 0.8, "still": 0.8}),  # fairly sure of both: together too
        ("Old bilateral rib fractures.", {"bilateral": 0.3, "rib": 0.3}),  # not "bilaterally"
        ("The mediastinal is shifted.", {"mediastinal": 0.9}),  # a confident adjective stays
        ("Mediastinal contours are normal.", {"Mediastinal": 0.2}),  # an adjective before its noun
    ],
)
def test_confident_words_and_true_adjectives_stay(vocab: Vocabulary, text: str, doubt: dict[str, float]) -> None:
    check(vocab, heard(text, doubt), text, [])


@pytest.mark.parametrize(
    "text, expected",
    [
        # a prompted noun written for the adjective that makes the term with the next word
        ("The mediastinum silhouette is normal.", "The mediastinal silhouette is normal."),
        ("Bulla emphysema in both apices.", "Bullous emphysema in both apices."),
        ("Small left pleura effusion.", "Small left pleural effusion."),
        ("Stable mediastinum contours.", "Stable mediastinal contours."),  # the plural of the term's noun
    ],
)
def test_a_noun_before_the_noun_of_its_adjectives_term(vocab: Vocabulary, text: str, expected: str) -> None:
    check(vocab, heard(text, {w: 0.95 for w in text.split()}), expected, ["form"])


@pytest.mark.parametrize(
    "text",
    [
        "The mediastinum is normal.",  # no term with the next word
        "The mediastinum, silhouette and lungs.",  # a pause between them
        "Both lung bases are clear.",  # a plural is no other form of the word
        "Right lower lobe and right upper lobe.",  # the word makes a term itself
    ],
)
def test_nouns_that_are_no_misheard_adjective_stay(vocab: Vocabulary, text: str) -> None:
    check(vocab, heard(text, {w: 0.95 for w in text.split()}), text, [])
