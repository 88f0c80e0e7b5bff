"""The spaCy training configuration of the statistical NER model (`training_config`): a template and the
settings `hilum train ner --setting KEY=VALUE` overrides. Architecture settings: `window` (the encoder's window
per layer), `hidden` (the parser's hidden width), `chars` (character embeddings instead of hashed affixes) and
`warmup` (a warm-up then a linear decay of the rate); `static_vectors=1` adds en_core_web_md's word vectors.
"""

from __future__ import annotations

from typing import Any

MODEL_NAME = "hilum_ner"
CONFIG_TEMPLATE = """
[paths]
train = null
dev = null

[system]
gpu_allocator = null
seed = {seed}

[nlp]
lang = "en"
pipeline = ["tok2vec", "ner"]
batch_size = 256
tokenizer = {{"@tokenizers": "hilum.clinical_tokenizer.v1"}}

[components]

[components.tok2vec]
factory = "tok2vec"

[components.tok2vec.model]
@architectures = "spacy.Tok2Vec.v2"

[components.tok2vec.model.embed]
{embed_block}
include_static_vectors = {static_vectors}

[components.tok2vec.model.encode]
@architectures = "spacy.MaxoutWindowEncoder.v2"
width = {width}
depth = {depth}
window_size = {window}
maxout_pieces = 3

[components.ner]
factory = "ner"

[components.ner.model]
@architectures = "spacy.TransitionBasedParser.v2"
state_type = "ner"
extra_state_tokens = false
hidden_width = {hidden}
maxout_pieces = 2
use_upper = true
nO = null

[components.ner.model.tok2vec]
@architectures = "spacy.Tok2VecListener.v1"
width = {width}
upstream = "*"

[corpora]

[corpora.train]
@readers = "spacy.Corpus.v1"
path = ${{paths.train}}
max_length = 0
augmenter = {{"@augmenters": "hilum.case_augmenter.v1", "upper": {upper}, "lower": {lower}}}

[corpora.dev]
@readers = "spacy.Corpus.v1"
path = ${{paths.dev}}
max_length = 0

[training]
dev_corpus = "corpora.dev"
train_corpus = "corpora.train"
seed = ${{system.seed}}
gpu_allocator = ${{system.gpu_allocator}}
dropout = {dropout}
accumulate_gradient = 1
patience = {patience}
max_epochs = 0
max_steps = {max_steps}
eval_frequency = {eval_frequency}
frozen_components = []
annotating_components = []
before_to_disk = null

[training.batcher]
@batchers = "spacy.batch_by_words.v1"
discard_oversize = false
tolerance = 0.2

[training.batcher.size]
@schedules = "compounding.v1"
start = 100
stop = 1000
compound = 1.001

[training.logger]
@loggers = "spacy.ConsoleLogger.v1"
progress_bar = false

[training.optimizer]
@optimizers = "Adam.v1"
beta1 = 0.9
beta2 = 0.999
L2_is_weight_decay = true
L2 = 0.01
grad_clip = 1.0
use_averages = true
eps = 0.00000001
learn_rate = {learn_rate_schedule}

[training.score_weights]
ents_f = 1.0
ents_p = 0.0
ents_r = 0.0
ents_per_type = null

[initialize]
vectors = null
before_init = {before_init}
"""
DEFAULT_SETTINGS: dict[str, Any] = {
    "seed": 0,
    "width": 96,
    "depth": 4,
    "rows": "20000, 5000, 5000, 5000",
    "dropout": 0.1,
    "upper": 0.1,
    "lower": 0.05,
    "patience": 3200,
    "max_steps": 12000,
    "eval_frequency": 400,
    "static_vectors": 0,
    "learn_rate": 0.001,
    "window": 1,
    "hidden": 64,
    "warmup": 0,
    "chars": 0,
}


def training_config(**settings: Any) -> str:
    """The spaCy training configuration, `DEFAULT_SETTINGS` overridden by `settings` (unknown keys raise)."""
    unknown = set(settings) - set(DEFAULT_SETTINGS)
    if unknown:
        raise ValueError(f"unknown training settings: {', '.join(sorted(unknown))}")
    values = {**DEFAULT_SETTINGS, **settings}
    use_vectors = bool(int(values["static_vectors"]))
    values["static_vectors"] = "true" if use_vectors else "false"
    values["before_init"] = '{"@callbacks": "hilum.static_vectors.v1"}' if use_vectors else "null"
    values["learn_rate_schedule"] = _learn_rate(values)
    values["embed_block"] = _embed(values)
    return CONFIG_TEMPLATE.format(**values)


def _embed(values: dict[str, Any]) -> str:
    """The token embedding: hashed NORM, PREFIX, SUFFIX, SHAPE features, or (`chars` > 0) NORM plus embeddings
    of the first and last `chars` // 2 characters of each word (`spacy.CharacterEmbed.v2`, 16 dimensions per
    character; its NORM table takes the first of `rows`)."""
    width, chars = int(values["width"]), int(values["chars"])
    if chars <= 0:
        return (
            f'@architectures = "spacy.MultiHashEmbed.v2"\nwidth = {width}\n'
            f'attrs = ["NORM", "PREFIX", "SUFFIX", "SHAPE"]\nrows = [{values["rows"]}]'
        )
    rows = str(values["rows"]).split(",")[0].strip()
    return (
        f'@architectures = "spacy.CharacterEmbed.v2"\nwidth = {width}\nrows = {rows}\nnM = 16\nnC = {chars}\n'
        'feature = "NORM"'
    )


def _learn_rate(values: dict[str, Any]) -> str:
    """A constant rate, or (`warmup` > 0) a linear warm-up over `warmup` steps then a linear decay to zero at
    `max_steps`."""
    if int(values["warmup"]) <= 0:
        return str(values["learn_rate"])
    return (
        '{"@schedules": "warmup_linear.v1", '
        f'"warmup_steps": {int(values["warmup"])}, "total_steps": {int(values["max_steps"])}, '
        f'"initial_rate": {values["learn_rate"]}}}'
    )
