"""The vocabulary prompt: which lexicon terms it names, and that naming them lets the real model (faster-whisper
base, int8, beam 3: the product default on CPU) write the word itself instead of sound-alike English that the
correction pass must then guess back ("media still" for "mediastinum"). Speech is synthesised by espeak-ng."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from annotators.transcription import DecodeOptions, decoding, get_engine, transcribe_samples
from annotators.transcription.vocabulary import PROMPT_CHARS, RARE_ZIPF, Vocabulary, from_ontology, tokens, zipf


@pytest.fixture(scope="module")
def vocab() -> Vocabulary:
    return from_ontology()


def test_core_chest_terms_fit_and_long_phrases_do_not(vocab: Vocabulary) -> None:
    prompt = vocab.prompt()
    assert len(prompt) <= PROMPT_CHARS
    for term in ("pleural effusion", "pneumothorax", "atelectasis", "mediastinum", "granuloma", "hemidiaphragm"):
        assert term in prompt
    # mostly words the prompt names already, or words any model knows: no room for them
    for term in ("posteroanterior and lateral radiograph", "peripherally inserted central catheter",
                 "central venous catheter", "loculated pleural effusion"):
        assert term not in prompt


def test_each_term_brings_rare_words_the_earlier_ones_lack(vocab: Vocabulary) -> None:
    named: set[str] = set()
    for term in vocab.prompt().split(": ", 1)[1].rstrip(".").split(", "):
        new = {w for w in tokens(term) if zipf(w) < RARE_ZIPF} - named
        assert sum(map(len, new)) >= len(term.replace(" ", "")) / 2, term  # at least half its letters
        named |= new


def test_a_term_that_does_not_fit_leaves_room_for_the_next() -> None:
    vocab = Vocabulary.from_terms(["atelectasis", "hydropneumothorax " * 40, "mediastinum"])
    assert vocab.prompt() == "Radiology dictation. Findings: atelectasis, mediastinum."


@pytest.fixture(scope="module")
def heard(whisper_cache: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """What the base model writes (before corrections) for a few sentences spoken by espeak-ng."""
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed")
    engine = get_engine("faster-whisper", "base", compute_type="int8")
    folder = tmp_path_factory.mktemp("spoken")
    out = {}
    for k, sentence in enumerate(SENTENCES):
        wav = folder / f"s{k}.wav"
        subprocess.run(["espeak-ng", "-v", "en-us", "-s", "150", "-w", str(wav), sentence], check=True)
        text = transcribe_samples(decoding.load(str(wav)), engine, options=DecodeOptions())
        out[sentence] = " ".join(w.word for s in text.segments for w in s.words).lower()
    return out


SENTENCES = {
    "The mediastinum is midline and the trachea is central.": "mediastinum",
    "A small calcified granuloma is seen in the left upper lobe.": "granuloma",
}


@pytest.mark.parametrize("sentence", list(SENTENCES))
def test_the_model_writes_prompted_terms_itself(heard: dict[str, str], sentence: str) -> None:
    assert SENTENCES[sentence] in heard[sentence]  # the old prompt (no mediastinum, granuloma): "media still"
