"""The focused second pass (`annotators.transcription.focus`): which terms a first pass's words choose, that the
faster-whisper second pass on the kept encoder output is the same as decoding with that prompt, and the
pipeline's use of it, on the real packaged weights."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from annotators.transcription import DecodeOptions, decoding, get_engine, transcribe_samples
from annotators.transcription.engine import EngineOutput, TranscriptionEngine
from annotators.transcription.faster_window import first_windows
from annotators.transcription.focus import focus_terms, focused_prompt, same_length
from annotators.transcription.result import Segment, Word
from annotators.transcription.vocabulary import PROMPT_CHARS, PROMPT_HEAD, Vocabulary, from_ontology, prompt_naming

AUDIO = Path(__file__).resolve().parent.parent / "fixtures" / "audio"


@pytest.fixture(scope="module")
def vocab() -> Vocabulary:
    return from_ontology()


def heard(text: str, doubtful: tuple[str, ...] = ()) -> list[Word]:
    """Words as an engine gives them: probability 0.3 for the words in `doubtful`, 0.97 for the others."""
    return [Word(float(k), k + 0.5, w, 0.3 if w.strip(".,").lower() in doubtful else 0.97)
            for k, w in enumerate(text.split())]


def test_terms_heard_come_first_then_the_ones_doubtful_words_sound_like(vocab: Vocabulary) -> None:
    words = heard("Thoracic spondylosis, maceleratic tarsis, no pleural effusion.", ("maceleratic", "tarsis"))
    found = focus_terms(words, vocab)
    assert {"spondylosis", "pleural effusion"} <= set(found[:found.index("basilar atelectasis")])
    assert "basilar atelectasis" in found


def test_a_clearly_heard_rare_term_is_not_second_guessed(vocab: Vocabulary) -> None:
    """"no pneumothorax" heard clearly names no "hydropneumothorax"; the same words in doubt may."""
    clear = focus_terms(heard("There is no pneumothorax or plural effusion.", ("no", "plural")), vocab)
    assert "pneumothorax" in clear and "pleural" in clear and "hydropneumothorax" not in clear
    doubted = focus_terms(heard("There is no pneumothorax or plural effusion.", ("no", "pneumothorax", "plural")),
                          vocab)
    assert "hydropneumothorax" in doubted


def test_nothing_nearly_heard_means_no_second_pass(vocab: Vocabulary) -> None:
    words = heard("No pleural effusion or pneumothorax.")
    assert focus_terms(words, vocab) == []
    assert focused_prompt(words, vocab) is None


def test_the_prompt_names_at_most_the_limit(vocab: Vocabulary) -> None:
    words = heard("the media still contours and the plural effusion with bye basillar telectasis",
                  ("media", "still", "plural", "bye", "basillar", "telectasis"))
    prompt = focused_prompt(words, vocab, limit=5)
    assert prompt is not None and prompt.startswith(PROMPT_HEAD) and prompt.endswith(".")
    assert len(prompt[len(PROMPT_HEAD):-1].split(", ")) == 5


def test_a_long_list_keeps_its_best_terms_within_the_prompt_budget(vocab: Vocabulary) -> None:
    """Whisper keeps a prompt's last 223 tokens: a focused prompt is cut to the budget from its end, so the
    terms heard and the best sound-alikes stay."""
    said = ", ".join(sorted((" ".join(t) for t in vocab.terms), key=len, reverse=True)[:60])
    words = heard(f"{said}, maceleratic tarsis.", ("maceleratic", "tarsis"))
    found = focus_terms(words, vocab)
    prompt = focused_prompt(words, vocab)
    assert prompt is not None and len(prompt) <= PROMPT_CHARS
    named = prompt[len(PROMPT_HEAD):-1].split(", ")
    assert len(named) < len(found) and named[0] == found[0]
    assert named == [t for t in found if t in named]  # best first, as ranked


def test_prompt_naming_skips_a_term_too_long_for_what_is_left() -> None:
    room = PROMPT_CHARS - len(PROMPT_HEAD)
    assert prompt_naming(["a" * (room - 10), "b" * 20, "c" * 5]) == PROMPT_HEAD + "a" * (room - 10) + ", ccccc."
    assert prompt_naming(["x" * PROMPT_CHARS]) == ""


def test_a_focused_prompt_is_made_as_long_as_the_first_pass_prompt(vocab: Vocabulary) -> None:
    """Counted here in words: a short focused prompt is led by the first prompt's last words, then by "."s
    where no whole word fits; a long one loses its last terms first."""
    def count(text: str) -> int:
        return len(text.split())

    first = "Radiology dictation. Findings: pleural effusion, atelectasis."
    assert same_length("Findings: edema.", first, count) == "Findings: pleural effusion, atelectasis. Findings: edema."
    def pieces(text: str) -> int:  # a long word is several tokens
        return sum(1 + len(w) // 6 for w in text.split())

    assert same_length("Findings: edema.", "a a a pneumothorax-ish", pieces) == ". . Findings: edema."
    words = heard("the plural effusion with bye basillar telectasis", ("plural", "bye", "basillar", "telectasis"))
    unfitted = focused_prompt(words, vocab)
    assert unfitted is not None
    short_first = " ".join(["word"] * (count(unfitted) - 3))
    fitted = focused_prompt(words, vocab, tokens=count, first=short_first)
    assert fitted is not None and count(fitted) == count(short_first)
    named = fitted[fitted.index(PROMPT_HEAD) + len(PROMPT_HEAD):-1].split(", ")
    assert unfitted.startswith(PROMPT_HEAD + ", ".join(named))  # the best terms kept, in their order


@pytest.mark.usefixtures("whisper_cache")
def test_both_engines_count_a_fitted_prompt_as_the_first_pass_prompt(vocab: Vocabulary) -> None:
    """With whisper's own tokenizer (both engines count alike), every focused prompt is exactly as many tokens
    long as the vocabulary prompt, so CTranslate2 decodes a batch's second passes together."""
    first = vocab.prompt()
    faster, reference = (get_engine(name, "tiny.en").prompt_counter() for name in ("faster-whisper", "openai-whisper"))
    assert faster is not None and reference is not None
    assert faster(first) == reference(first) > 100
    for said, doubtful in [("plural effusion", ("plural",)), ("maceleratic tarsis", ("maceleratic", "tarsis")),
                           ("the media still contours and bye basillar telectasis with a nodule",
                            ("media", "still", "bye", "basillar", "telectasis"))]:
        fitted = focused_prompt(heard(said, doubtful), vocab, tokens=faster, first=first)
        assert fitted is not None and faster(fitted) == reference(fitted) == faster(first)


class Scripted(TranscriptionEngine):
    """An engine that hears what its script says for the prompt it is given."""

    name = "scripted"

    def __init__(self, script: dict[str | None, str]) -> None:
        super().__init__("scripted")
        self.script, self.prompts = script, []

    @staticmethod
    def cuda_available() -> bool:
        return False

    def _load(self) -> object:
        return object()

    def _transcribe(self, samples: object, options: DecodeOptions) -> EngineOutput:
        self.prompts.append(options.initial_prompt)
        text = self.script.get(options.initial_prompt, self.script.get("*", ""))
        words = tuple(heard(text, tuple(text.lower().split())))
        return EngineOutput([Segment(0.0, 5.0, text, words)] if words else [], "en")


def test_the_engine_decodes_again_with_the_prompt_refocus_gives() -> None:
    engine = Scripted({None: "plural effusion", "focus": "pleural effusion"})
    out = engine.transcribe_batch([decoding.np.zeros(16000, dtype="float32")], DecodeOptions(),
                                  refocus=lambda words: "focus")
    assert engine.prompts == [None, "focus"]
    assert [w.word for w in out[0].segments[0].words] == ["pleural", "effusion"]
    assert (out[0].first_pass, out[0].focus_prompt) == ("plural effusion", "focus")


def test_a_second_pass_that_hears_nothing_keeps_the_first() -> None:
    engine = Scripted({None: "plural effusion"})
    out = engine.transcribe_batch([decoding.np.zeros(16000, dtype="float32")], DecodeOptions(),
                                  refocus=lambda words: "focus")
    assert [w.word for w in out[0].segments[0].words] == ["plural", "effusion"]
    assert out[0].first_pass is None


def test_the_transcript_records_what_the_first_pass_heard(vocab: Vocabulary) -> None:
    """The focused words are the transcript's; `refocused` keeps the first pass's, and the prompt that
    changed them, so an annotator can see what the vocabulary did (the CLI's JSONL has them too)."""
    engine = Scripted({vocab.prompt(): "thoracic spondylosis, maceleratic tarsis.",
                       "*": "thoracic spondylosis, basilar atelectasis."})
    samples = decoding.np.zeros(16000 * 4, dtype="float32")
    samples[::50] = 0.5  # not silence: the pipeline skips silent pieces
    transcript = transcribe_samples(samples, engine, vocabulary=vocab)
    assert transcript.text == "thoracic spondylosis, basilar atelectasis."
    [refocused] = transcript.refocused
    assert refocused.first_pass == "thoracic spondylosis, maceleratic tarsis."
    assert "basilar atelectasis" in refocused.prompt and refocused.start == 0.0 and refocused.end == 4.0
    assert transcript.to_dict()["refocused"] == [refocused.to_dict()]
    assert transcribe_samples(samples, engine, vocabulary=vocab, focus=False).refocused == []


@pytest.mark.usefixtures("whisper_cache")
def test_the_second_pass_on_the_kept_encoder_output_is_decoding_with_that_prompt() -> None:
    engine = get_engine("faster-whisper", "tiny.en")
    engine.load()
    piece = decoding.load(AUDIO / "dictation.ogg")
    options = DecodeOptions(beam_size=1, language="en")
    prompt = "Radiology dictation. Findings: pleural effusion, pneumothorax."
    seen: list[tuple[Word, ...]] = []

    def refocus(words: tuple[Word, ...]) -> str:
        seen.append(words)
        return prompt

    again = first_windows(engine._loaded, [piece], options, "en", refocus)[0]
    direct = first_windows(engine._loaded, [piece], replace(options, initial_prompt=prompt), "en")[0]
    assert seen and seen[0]  # the first pass's words
    assert [w.word for s in again.segments for w in s.words] == [w.word for s in direct.segments for w in s.words]


@pytest.fixture(scope="module")
def spoken(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed")
    wav = tmp_path_factory.mktemp("focus") / "basilar.wav"
    sentence = ("The cardiac contours are normal. The lungs are clear. Thoracic spondylosis. Basilar atelectasis. "
                "No confluent lobar consolidation or pleural effusion.")
    subprocess.run(["espeak-ng", "-v", "en", "-s", "160", "-w", str(wav), sentence], check=True)
    return wav


@pytest.mark.usefixtures("whisper_cache")
def test_focus_brings_a_misheard_term_back(spoken: Path) -> None:
    """The base model hears "maceleratic tarsis" with the lexicon's prompt; prompted with what that sounds
    like, it writes "basilar atelectasis"."""
    engine = get_engine("faster-whisper", "base")
    transcript = transcribe_samples(decoding.load(spoken), engine, options=DecodeOptions())
    assert "basilar atelectasis" in transcript.text.lower()
