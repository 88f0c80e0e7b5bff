"""Medical vocabulary: terms and prompt from the radiology lexicon; the correction pass (table-driven), its
timings, its records and their undo. No model is loaded here."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from annotators.transcription.correction import correct, revert, similarity, skeleton
from annotators.transcription.result import Word, join_words
from annotators.transcription.vocabulary import Vocabulary, from_ontology


@pytest.fixture(scope="module")
def vocab() -> Vocabulary:
    return from_ontology()


def words_of(text: str) -> list[Word]:
    return [Word(float(i), i + 0.8, token, 0.9) for i, token in enumerate(text.split())]


def assert_corrected(vocab: Vocabulary, heard: str, expected: str, rules: list[str]) -> None:
    fixed, corrections = correct(words_of(heard), vocab)
    assert join_words(fixed) == expected
    assert [c.rule.split(":")[0] for c in corrections] == rules
    assert [w.word for w in revert(fixed, corrections)] == heard.split()  # every correction undoes


@pytest.mark.parametrize("heard, expected, rules", [
    ("There is a small plural effusion.", "There is a small pleural effusion.", ["term"]),
    ("A pulmonary module in the right upper lobe.", "A pulmonary nodule in the right upper lobe.", ["term"]),
    ("Mild cardio megaly.", "Mild cardiomegaly.", ["merge"]),
    ("Bibasilar at electasis.", "Bibasilar atelectasis.", ["merge"]),
    ("No new mothorax.", "No pneumothorax.", ["merge"]),
    # "lower lobe atelectasis" is a lexicon term, so the phrase snaps as a term; a lone word by spelling
    ("Right lower lobe atelectasus is seen.", "Right lower lobe atelectasis is seen.", ["term"]),
    ("Atelectasus is seen.", "Atelectasis is seen.", ["spelling"]),
    ("Small pneumothoraks on the right.", "Small pneumothorax on the right.", ["spelling"]),
    ("Plural effusion on the left.", "Pleural effusion on the left.", ["term"]),
    # a term word heard as two words, both ordinary English: the rest of the term is the evidence
    ("The media still silhouettes are normal.", "The mediastinal silhouettes are normal.", ["term"]),
    ("No acute cardinal pulmonary abnormality.", "No acute cardiopulmonary abnormality.", ["term"]),
    # the context may be the plural of the term's word ("mediastinal contour"): "contours" stays as heard
    ("Heart and media still contours are normal.", "Heart and mediastinal contours are normal.", ["term"]),
    ("No acute cardinal pulmonary abnormalities.", "No acute cardiopulmonary abnormalities.", ["term"]),
])
def test_near_misses_snap_to_lexicon_terms(vocab: Vocabulary, heard: str, expected: str, rules: list[str]) -> None:
    assert_corrected(vocab, heard, expected, rules)


@pytest.mark.parametrize("heard", [
    "The heart is normal in size. The lungs are clear.",
    "Right upper lobe and right lower lobe are clear.",  # a vocabulary word is never swapped for another
    "The patient has a module for the device.",  # no term context: an ordinary word stays
    "Follow up in 3 months.",
    "No focal consolidations.",  # an inflection of a vocabulary word is not a misspelling of it
    "No pleural effusion seen.",  # a vocabulary word is never joined with the word after it
    "The device will assias the heart.",  # spelling targets are words a general model may not know
    "",
])
def test_correct_text_is_left_alone(vocab: Vocabulary, heard: str) -> None:
    assert_corrected(vocab, heard, heard, [])


def test_correction_keeps_timings_and_records_what_changed(vocab: Vocabulary) -> None:
    heard = [Word(0.0, 0.4, "Mild", 0.99), Word(0.5, 0.9, "cardio", 0.7, " "), Word(0.9, 1.5, "megaly.", 0.4),
             Word(2.0, 2.5, "Small", 0.9), Word(2.5, 3.0, "plural", 0.8), Word(3.0, 3.6, "effusion.", 0.95)]
    fixed, corrections = correct(heard, vocab)
    assert [(w.word, w.start, w.end) for w in fixed] == [
        ("Mild", 0.0, 0.4), ("cardiomegaly.", 0.5, 1.5), ("Small", 2.0, 2.5), ("pleural", 2.5, 3.0),
        ("effusion.", 3.0, 3.6)]
    assert fixed[1].prob == 0.4  # a merge is as uncertain as its least certain part
    merge, term = (c.to_dict() for c in corrections)
    assert merge["original"] == "cardio megaly." and merge["corrected"] == "cardiomegaly." and merge["index"] == 1
    assert term == {**term, "index": 4, "original": "plural", "corrected": "pleural", "start": 2.5, "end": 3.0}
    assert term["rule"] == "term:pleural effusion" and 0.8 < term["score"] <= 1.0
    assert [w.word for w in revert(fixed, corrections, undo=[1])] == [
        "Mild", "cardiomegaly.", "Small", "plural", "effusion."]


@pytest.mark.parametrize("prob, expected", [
    (0.97, "The lungs are expanded."),  # a common word the engine was sure of is what was said
    (0.6, "The lungs are expanded."),  # fairly sure, and the term word only adds letters to it
    (0.3, "The lungs are hyperexpanded."),  # unsure: the term around it decides
])
def test_word_probability_is_the_audio_evidence(vocab: Vocabulary, prob: float, expected: str) -> None:
    heard = [Word(float(i), i + 0.8, token, 0.99) for i, token in enumerate("The lungs are expanded.".split())]
    heard[-1] = Word(3.0, 3.8, "expanded.", prob)
    fixed, _ = correct(heard, vocab)
    assert join_words(fixed) == expected


@pytest.mark.parametrize("heard, doubt, expected", [
    # a doubtful word that sounds like the term word paired with its neighbour (a pair of a longer term)
    ("Normal heart eyes.", 0.7, "Normal heart size."),
    ("Tortuous thoracic order.", 0.6, "Tortuous thoracic aorta."),
    ("Old granular mattress disease.", 0.2, "Old granulomatous disease."),  # two heard words, anchor after
    ("Normal heart eyes.", 0.97, "Normal heart eyes."),  # the engine was sure: what was said
    ("The heart is normal.", 0.5, "The heart is normal."),  # a function word is never a sound-alike
    ("A thoracic border.", 0.5, "A thoracic border."),  # sounds too unlike "aorta"
])
def test_sound_alike_pairs_need_doubt(vocab: Vocabulary, heard: str, doubt: float, expected: str) -> None:
    sure = {"Normal", "Tortuous", "Old", "The", "A", "thoracic", "heart", "disease.", "normal."}
    words = [Word(float(i), i + 0.8, t, 0.99 if t in sure else doubt) for i, t in enumerate(heard.split())]
    fixed, corrections = correct(words, vocab)
    assert join_words(fixed) == expected
    assert all(c.rule.startswith("pair:") for c in corrections)
    assert [w.word for w in revert(fixed, corrections)] == heard.split()
    assert [(w.start, w.end) for w in fixed][0] == (0.0, 0.8)


def test_skeleton_keeps_the_consonants_as_heard() -> None:
    assert skeleton("order") == "artr" and skeleton("aorta") == "art"  # voicing and vowels left out
    assert skeleton("heart eyes") == skeleton("heart size") == "hrts"


def test_capitals_and_punctuation_are_kept(vocab: Vocabulary) -> None:
    fixed, _ = correct(words_of("Pulmonary Module, right."), vocab)
    assert join_words(fixed) == "Pulmonary Nodule, right."


def test_similarity_hears_spellings_alike() -> None:
    assert similarity("plural", "pleural") > 0.9
    assert similarity("newmothorax", "pneumothorax") == 1.0
    assert similarity("left", "right") < 0.7


def test_prompt_names_hard_terms_within_budget(vocab: Vocabulary) -> None:
    prompt = vocab.prompt()
    assert 100 < len(prompt) <= 600
    for term in ("pleural effusion", "pneumothorax", "atelectasis"):
        assert term in prompt
    assert "lung," not in prompt  # common words need no prompting


def test_extra_terms_come_first() -> None:
    vocab = from_ontology(extra_terms=["bronchiolitis obliterans"])
    assert vocab.prompt_terms[0] == "bronchiolitis obliterans"
    assert ("bronchiolitis", "obliterans") in vocab.terms
    fixed, corrections = correct(words_of("bronchiolitis obliterands"), vocab)
    assert join_words(fixed) == "bronchiolitis obliterans" and len(corrections) == 1


TIE = """
from annotators.transcription.correction import correct
from annotators.transcription.result import Word
from annotators.transcription.vocabulary import Vocabulary
vocab = Vocabulary.from_terms(["zorbaflex", "zorbaflux", "zorbaflix"])
print(correct([Word(0.0, 1.0, "zorbaflax", 0.4)], vocab)[0][0].word)
"""


def test_a_tie_between_vocabulary_words_goes_the_same_way_in_every_process() -> None:
    """"zorbaflax" reads equally like three vocabulary words: the alphabetically first wins, whatever order
    Python's string hashing gives the vocabulary's set of words in that process."""
    chosen = set()
    for seed in ("1", "2", "3", "4", "5"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run([sys.executable, "-c", TIE], env=env, capture_output=True, text=True, check=True)
        chosen.add(done.stdout.strip())
    assert chosen == {"zorbaflex"}
