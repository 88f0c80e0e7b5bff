"""Transcription benchmark: real-time factor, WER and medical-term recall, Hilum next to the plain libraries.

    .venv/bin/python bench/transcribe.py [--speech ../shared/eval/speech]
        [--reports ../shared/eval/iu-cxr-dev/reports.csv] [--dictations 8] [--models tiny.en,base]
        [--engines faster-whisper,openai-whisper] [--device cpu] [--compute-type int8] [--beam-size 3]
        [--skip 0] [--slow-subset 4] [--batch 8] [--json OUT] [--save-audio DIR | --audio DIR]

Input: `jfk.flac` (+ `reference.txt`) from `--speech`, and `--dictations` reports from `--reports` spoken by
Debian's `espeak-ng` (findings + impression; sentences with `XXXX` masks are dropped; a few voices/speeds in
turn; `--skip` starts later in the file, e.g. to tune on other reports than the ones measured). Either
input is skipped with a message when absent; with neither the script exits 0 having measured
nothing. `--save-audio DIR` keeps the decoded sets (16 kHz float32 `.npy`, the source files, references) and
`--audio DIR` measures such a saved set instead: the same audio on a machine without espeak-ng, e.g. a GPU
machine (`--device cuda`). For each engine and model, on the same decoded audio in one run:

- `plain`: the library called as its README shows (faster-whisper `WhisperModel(..., compute_type=...)
  .transcribe(audio, beam_size=5)` with the same compute type as Hilum; openai-whisper `model.transcribe(audio)`,
  greedy), on the same weights;
- `hilum`: Hilum's pipeline without vocabulary; `hilum+corr`: with the correction pass only;
  `hilum+vocab-1pass`: with prompt and correction, one decoding pass (`hilum transcribe --no-focus`);
  `hilum+vocab`: the product default, which also decodes each piece a second time prompted with the terms
  its first pass heard or nearly heard (`annotators.transcription.focus`).

With `--batch N` more rows per model, over the whole dictation set:

- `plain-batched` (faster-whisper only): the library's own batched call as its README shows it,
  `BatchedInferencePipeline(model).transcribe(audio, batch_size=N)` per file (it batches the VAD pieces of
  one file: a dictation under 30 s is one piece, so this is its per-file speed; no word timings);
- `hilum+vocab batched` (and `hilum+vocab-1pass batched`): `transcribe_many(files, engine, batch_size=N)`,
  pieces of consecutive files decoded together (the path `hilum transcribe FILE...` takes), timed as a whole
  including reading the files.

openai-whisper is slow on CPU: it gets the first `--slow-subset` dictations only (0: all), and says so in
its rows (`audio_s`, `files`). Each runner transcribes one clip once before it is timed (warm-up).

Figures: RTF (total processing seconds / total audio seconds, model load excluded), CPU RTF (process CPU seconds / audio
seconds: steadier than wall time when other work shares the cores), WER (lowercase words, punctuation
dropped), and medical-term recall: of the lexicon terms with a word rare in general English that the
reference contains, the share the transcript contains too. Terms are split as the text is (hyphens are
spaces), and a compound the lexicon writes both open and closed ("air space" / "airspace") counts either
way; WER does not forgive it. `corrections`: how many vocabulary corrections Hilum made (each undoable).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

VOICES = [("en-us", 150), ("en", 160), ("en-us+m3", 140), ("en+f2", 155)]


def words_of(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+(?:'[a-z]+)?", text.lower().replace("-", " "))


def wer(ref: list[str], hyp: list[str]) -> tuple[int, int]:
    """(edit distance, reference length)."""
    prev = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        cur = [i] + [0] * len(hyp)
        for j, h in enumerate(hyp, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (r != h))
        prev = cur
    return prev[-1], len(ref)


def medical_terms() -> list[tuple[str, ...]]:
    from annotators.transcription.vocabulary import RARE_ZIPF, from_ontology, zipf

    vocab = from_ontology()
    return sorted({t for t in vocab.terms if any(zipf(w) < RARE_ZIPF for w in t)}, key=len, reverse=True)


def closed_compounds(terms: list[tuple[str, ...]]) -> dict[tuple[str, str], str]:
    """Adjacent term words whose closed spelling is a term word too, as the lexicon writes both ("air space
    opacity", "airspace disease"): the same words written open or closed, which term matching must not count
    as a miss (WER still does)."""
    words = {w for t in terms for w in t}
    return {(a, b): a + b for t in terms for a, b in zip(t, t[1:], strict=False) if a + b in words}


def close_compounds(tokens: list[str], pairs: dict[tuple[str, str], str]) -> list[str]:
    """`tokens` with every open compound of `pairs` written closed."""
    out: list[str] = []
    for token in tokens:
        if out and (out[-1], token) in pairs:
            out[-1] = pairs[(out[-1], token)]
        else:
            out.append(token)
    return out


def term_hits(ref: list[str], hyp: list[str], terms: list[tuple[str, ...]]) -> tuple[int, int]:
    """(found, expected): each term occurrence in the reference (longest terms first, no overlaps). Terms
    are matched as `words_of` splits text (hyphens are spaces) and compounds count open or closed."""
    pairs = closed_compounds(terms)
    terms = sorted({tuple(close_compounds(words_of(" ".join(t)), pairs)) for t in terms}, key=len, reverse=True)
    ref, hyp = close_compounds(ref, pairs), close_compounds(hyp, pairs)
    def occurrences(tokens: list[str]) -> dict[tuple[str, ...], int]:
        used = [False] * len(tokens)
        counts: dict[tuple[str, ...], int] = {}
        for term in terms:
            n = len(term)
            for i in range(len(tokens) - n + 1):
                if tuple(tokens[i:i + n]) == term and not any(used[i:i + n]):
                    counts[term] = counts.get(term, 0) + 1
                    used[i:i + n] = [True] * n
        return counts
    want, got = occurrences(ref), occurrences(hyp)
    return sum(min(c, got.get(t, 0)) for t, c in want.items()), sum(want.values())


def report_texts(path: Path, count: int) -> list[str]:
    texts = []
    with path.open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            body = " ".join(x for x in (row.get("findings"), row.get("impression")) if x)
            sentences = [s.strip() for s in re.split(r"(?<=\.)\s+", body) if s.strip() and "XXXX" not in s]
            text = " ".join(sentences)
            if 15 <= len(text.split()) <= 90:
                texts.append(text)
            if len(texts) >= count:
                break
    return texts


def synthesise(texts: list[str], folder: Path) -> list[tuple[str, str]]:
    out = []
    for k, text in enumerate(texts):
        voice, speed = VOICES[k % len(VOICES)]
        wav = folder / f"dictation{k:02d}.wav"
        subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(wav), text], check=True)
        out.append((str(wav), text))
    return out


def save_sets(sets: dict[str, list[tuple[Any, str, float, str]]], folder: Path) -> None:
    """Write the decoded sets to `folder` (see `--save-audio`)."""
    import numpy as np

    folder.mkdir(parents=True, exist_ok=True)
    manifest = []
    for name, items in sets.items():
        for k, (audio, reference, _duration, path) in enumerate(items):
            stem = f"{name}{k:02d}"
            np.save(folder / f"{stem}.npy", audio)
            shutil.copyfile(path, folder / (stem + Path(path).suffix))
            manifest.append({"set": name, "samples": f"{stem}.npy", "file": stem + Path(path).suffix,
                             "reference": reference})
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=1), encoding="utf-8")


def load_sets(folder: Path, rate: int) -> dict[str, list[tuple[Any, str, float, str]]]:
    """The sets `save_sets` wrote to `folder`."""
    import numpy as np

    sets: dict[str, list[tuple[Any, str, float, str]]] = {}
    for row in json.loads((folder / "manifest.json").read_text(encoding="utf-8")):
        audio = np.load(folder / row["samples"])
        sets.setdefault(row["set"], []).append((audio, row["reference"], audio.size / rate, str(folder / row["file"])))
    return sets


def _default_compute(device: str) -> str:
    return "float16" if device == "cuda" else "int8"  # Hilum's default (FasterWhisperEngine._load)


def plain_runner(engine: str, model: str, device: str, compute: str | None) -> Any:
    """The library's own call on the same weights, as its README shows it."""
    from annotators.transcription import weights

    if engine == "faster-whisper":
        from faster_whisper import WhisperModel

        fw = WhisperModel(str(weights.ct2_model_dir(model)), device=device,
                          compute_type=compute or _default_compute(device))
        return lambda audio: "".join(s.text for s in fw.transcribe(audio, beam_size=5)[0])
    import whisper

    ow = whisper.load_model(str(weights.whisper_checkpoint(model)), device=device)
    return lambda audio: ow.transcribe(audio, fp16=device == "cuda")["text"]


def _options(beam: int | None) -> Any:
    """Hilum's default decoding options, or with beam `beam` (and as many samples in the fallback)."""
    from annotators.transcription import DecodeOptions

    return DecodeOptions() if beam is None else DecodeOptions(beam_size=beam, best_of=max(beam, 1))


def hilum_runner(engine: str, model: str, device: str, vocab: bool, prompt: bool, compute: str | None,
                 beam: int | None, focus: bool) -> Any:
    from annotators.transcription import get_engine, transcribe_samples

    eng = get_engine(engine, model, device=device, compute_type=compute)
    eng.load()
    options = _options(beam)
    return lambda audio: transcribe_samples(audio, eng, vocabulary=vocab, prompt=prompt, options=options,
                                            focus=focus)


def per_file(run: Any) -> Any:
    """A one-file runner as a set runner: (texts or transcripts, seconds, CPU seconds), each file timed."""
    def run_all(items: list[tuple[Any, str, float, str]]) -> tuple[list[Any], float, float]:
        out, seconds, cpu = [], 0.0, 0.0
        for samples, _reference, _duration, _path in items:
            started, cpu_started = time.perf_counter(), time.process_time()
            out.append(run(samples))
            seconds += time.perf_counter() - started
            cpu += time.process_time() - cpu_started
        return out, seconds, cpu
    run_all.warm = run  # type: ignore[attr-defined]
    return run_all


def batched_runner(engine: str, model: str, device: str, compute: str | None, beam: int | None, size: int,
                   focus: bool) -> Any:
    """Hilum's many-file path: `transcribe_many` over the set's files, timed as a whole."""
    from annotators.transcription import get_engine, transcribe_many, transcribe_samples

    eng = get_engine(engine, model, device=device, compute_type=compute)
    eng.load()
    options = _options(beam)

    def run_all(items: list[tuple[Any, str, float, str]]) -> tuple[list[Any], float, float]:
        started, cpu_started = time.perf_counter(), time.process_time()
        out = list(transcribe_many([path for *_, path in items], eng, options=options, batch_size=size, focus=focus))
        return out, time.perf_counter() - started, time.process_time() - cpu_started
    run_all.warm = lambda audio: transcribe_samples(audio, eng, options=options, focus=focus)  # type: ignore[attr-defined]
    return run_all


def library_batched_runner(model: str, device: str, compute: str | None, size: int) -> Any:
    """faster-whisper's own `BatchedInferencePipeline`, as its README shows it, on the same weights."""
    from faster_whisper import BatchedInferencePipeline, WhisperModel

    from annotators.transcription import weights

    fw = WhisperModel(str(weights.ct2_model_dir(model)), device=device,
                      compute_type=compute or _default_compute(device))
    pipe = BatchedInferencePipeline(model=fw)
    return per_file(lambda audio: "".join(s.text for s in pipe.transcribe(audio, batch_size=size)[0]))


def measure(run_all: Any, items: list[tuple[Any, str, float, str]], terms: list[tuple[str, ...]]
            ) -> dict[str, Any]:
    errors = ref_words = found = expected = fixes = 0.0
    if items:
        run_all.warm(items[0][0][: 16000 * 5])  # warm-up, not timed
    results, seconds, cpu = run_all(items)
    audio = sum(duration for _, _, duration, _ in items)
    samples = []
    for (_, reference, _, _), text in zip(items, results, strict=True):
        if isinstance(text, Exception):
            raise text
        if not isinstance(text, str):  # a Hilum transcript
            fixes, text = fixes + len(text.corrections), text.text
        e, n = wer(words_of(reference), words_of(text))
        f, x = term_hits(words_of(reference), words_of(text), terms)
        errors, ref_words, found, expected = errors + e, ref_words + n, found + f, expected + x
        samples.append(text)
    return {"rtf": round(seconds / audio, 3), "cpu_rtf": round(cpu / audio, 3), "files": len(items),
            "wer": round(errors / max(ref_words, 1), 3),
            "term_recall": round(found / expected, 3) if expected else None, "terms": int(expected),
            "found": int(found), "corrections": int(fixes),
            "audio_s": round(audio, 1), "first": samples[0][:160] if samples else ""}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--speech", default="../shared/eval/speech", help="folder with jfk.flac, reference.txt")
    parser.add_argument("--reports", default="../shared/eval/iu-cxr-dev/reports.csv", help="IU reports CSV")
    parser.add_argument("--dictations", type=int, default=8, help="reports to synthesise")
    parser.add_argument("--skip", type=int, default=0, help="usable reports to pass over first")
    parser.add_argument("--slow-subset", type=int, default=4,
                        help="dictations openai-whisper gets on CPU (the first N; 0: all)")
    parser.add_argument("--beam-size", type=int, default=None, help="Hilum's beam size (1: greedy; default: "
                        "Hilum's default, DecodeOptions.beam_size)")
    parser.add_argument("--models", default="tiny.en,base")
    parser.add_argument("--engines", default="faster-whisper,openai-whisper")
    parser.add_argument("--configs", default="plain,hilum,hilum+corr,hilum+vocab-1pass,hilum+vocab")
    parser.add_argument("--compute-type", default=None,
                        help="faster-whisper compute type (default: Hilum's, int8 on CPU)")
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--batch", type=int, default=0,
                        help="also measure batched decoding over the dictation set with this batch size")
    parser.add_argument("--json", dest="json_path", help="also write the figures here")
    saved = parser.add_mutually_exclusive_group()
    saved.add_argument("--save-audio", help="keep the decoded sets in this folder (for --audio elsewhere)")
    saved.add_argument("--audio", help="measure the sets a --save-audio run kept here (no espeak-ng needed)")
    args = parser.parse_args()

    from annotators.transcription import decoding

    sets: dict[str, list[tuple[Any, str, float, str]]] = {}
    jfk = Path(args.speech) / "jfk.flac"
    if args.audio:
        sets = load_sets(Path(args.audio), decoding.SAMPLE_RATE)
    elif jfk.is_file():
        ref = (Path(args.speech) / "reference.txt").read_text(encoding="utf-8").strip()
        audio = decoding.load(str(jfk))
        sets["jfk"] = [(audio, ref, audio.size / decoding.SAMPLE_RATE, str(jfk))]
    else:
        print(f"skip jfk: {jfk} not found")
    tmp = Path(tempfile.mkdtemp(prefix="hilum-bench-"))
    reports = Path(args.reports)
    if args.audio:
        pass
    elif not reports.is_file():
        print(f"skip dictations: {reports} not found")
    elif shutil.which("espeak-ng") is None:
        print("skip dictations: espeak-ng is not installed (apt-get install -y espeak-ng)")
    elif args.dictations > 0:
        items = []
        texts = report_texts(reports, args.skip + args.dictations)[args.skip:]
        for wav, text in synthesise(texts, tmp):
            audio = decoding.load(wav)
            items.append((audio, text, audio.size / decoding.SAMPLE_RATE, wav))
        sets["dictation"] = items
    if not sets:
        print("nothing to measure")
        return 0
    if args.save_audio:
        save_sets(sets, Path(args.save_audio))
    terms = medical_terms()
    load = os.getloadavg()
    print(f"cpus={os.cpu_count()} load={load[0]:.1f} device={args.device} "
          + " ".join(f"{k}={len(v)} files/{sum(x[2] for x in v):.0f}s" for k, v in sets.items()))
    results = []
    for model in args.models.split(","):
        for engine in args.engines.split(","):
            configs = [c for c in args.configs.split(",") if c]
            if args.batch > 0:
                configs += ["plain-batched"] if engine == "faster-whisper" else []
                configs += ["hilum+vocab-1pass batched", "hilum+vocab batched"]
            for config in configs:
                compute = args.compute_type if engine == "faster-whisper" else None
                if config == "plain":
                    run = per_file(plain_runner(engine, model, args.device, compute))
                elif config == "plain-batched":
                    run = library_batched_runner(model, args.device, compute, args.batch)
                elif config.startswith("hilum+vocab") and config.endswith(" batched"):
                    run = batched_runner(engine, model, args.device, compute, args.beam_size, args.batch,
                                         focus="1pass" not in config)
                else:
                    run = per_file(hilum_runner(engine, model, args.device, config != "hilum",
                                                config.startswith("hilum+vocab"), compute, args.beam_size,
                                                focus=config == "hilum+vocab"))
                slow = engine == "openai-whisper" and args.device == "cpu" and args.slow_subset > 0
                for name, items in sets.items():
                    if config.endswith("batched") and name != "dictation":
                        continue
                    items = items[: args.slow_subset] if slow else items
                    row = {"set": name, "model": model, "engine": engine, "config": config,
                           **({"batch": args.batch} if config.endswith("batched") else {}),
                           **measure(run, items, terms), "load": round(os.getloadavg()[0], 1)}
                    results.append(row)
                    print(json.dumps(row), flush=True)
    shutil.rmtree(tmp, ignore_errors=True)
    if args.json_path:
        Path(args.json_path).write_text(json.dumps(results, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
