"""CTranslate2 Whisper weights → an openai-whisper checkpoint, without CTranslate2 itself.

A CTranslate2 `model.bin` (binary version 6, `WhisperSpec`) is a flat list of named arrays. The mapping to
openai-whisper's `state_dict` is fixed: CTranslate2 fuses the self-attention query/key/value projections into
one matrix (key has no bias in Whisper, so its slice of the fused bias is zero) and the cross-attention
key/value into another; everything else is renamed one to one. Weights are copied at their stored precision
(float16 for the packaged models), so the conversion loses nothing and both engines compute with the same
numbers. The checkpoint holds `dims` and `model_state_dict` like OpenAI's own, plus `alignment_heads` (the
[layer, head] pairs CTranslate2's config lists, which word timestamps need) and `hilum` provenance.
"""

from __future__ import annotations

import json
import re
import struct
from pathlib import Path
from typing import IO, Any

import numpy as np

from annotators.errors import EngineError

# CTranslate2 DataType ids → numpy dtypes (int8 weights would also need their scales: refused below).
_DTYPES = {0: np.float32, 1: np.int8, 2: np.int16, 3: np.int32, 4: np.float16}
_SUPPORTED_BINARY_VERSIONS = {5, 6}


class ConversionError(EngineError):
    """The CTranslate2 files are not a Whisper model this converter understands."""

    code = "bad_weights"


def read_ct2_model(path: Path) -> dict[str, np.ndarray]:
    """Every variable of a CTranslate2 `model.bin`, by name (aliases resolved)."""
    with path.open("rb") as f:
        version = _unpack(f, "I")
        if version not in _SUPPORTED_BINARY_VERSIONS:
            raise ConversionError(f"unsupported CTranslate2 binary version {version}")
        spec = _string(f)
        if spec != "WhisperSpec":
            raise ConversionError(f"not a Whisper model (spec {spec!r})")
        _unpack(f, "I")  # spec revision
        variables: dict[str, np.ndarray] = {}
        for _ in range(_unpack(f, "I")):
            name = _string(f)
            shape = [_unpack(f, "I") for _ in range(_unpack(f, "B"))]
            dtype = _DTYPES.get(_unpack(f, "B"))
            size = _unpack(f, "I")
            if dtype is None:
                raise ConversionError(f"variable {name} has an unsupported data type")
            data = np.frombuffer(f.read(size), dtype=dtype)
            if data.nbytes != size:
                raise ConversionError("the model file is truncated")
            variables[name] = data.reshape(shape) if shape else data
        for _ in range(_unpack(f, "I")):
            alias, target = _string(f), _string(f)
            variables[alias] = variables[target]
    return variables


def _unpack(f: IO[bytes], fmt: str) -> int:
    size = struct.calcsize(fmt)
    raw = f.read(size)
    if len(raw) != size:
        raise ConversionError("the model file is truncated")
    return int(struct.unpack(fmt, raw)[0])


def _string(f: IO[bytes]) -> str:
    return f.read(_unpack(f, "H"))[:-1].decode("utf-8")


def _layers(variables: dict[str, np.ndarray], side: str) -> int:
    found = {int(m.group(1)) for k in variables if (m := re.match(rf"{side}/layer_(\d+)/", k))}
    return max(found) + 1 if found else 0


def dims_of(variables: dict[str, np.ndarray]) -> dict[str, int]:
    """openai-whisper's `ModelDimensions` fields, read off the array shapes."""
    conv1 = variables["encoder/conv1/weight"]
    audio_pos = variables["encoder/position_encodings/encodings"]
    text_pos = variables["decoder/position_encodings/encodings"]
    return {
        "n_mels": int(conv1.shape[1]),
        "n_audio_ctx": int(audio_pos.shape[0]),
        "n_audio_state": int(audio_pos.shape[1]),
        "n_audio_head": int(variables["encoder/num_heads"][0]),
        "n_audio_layer": _layers(variables, "encoder"),
        "n_vocab": int(variables["decoder/embeddings/weight"].shape[0]),
        "n_text_ctx": int(text_pos.shape[0]),
        "n_text_state": int(text_pos.shape[1]),
        "n_text_head": int(variables["decoder/num_heads"][0]),
        "n_text_layer": _layers(variables, "decoder"),
    }


def _attention(out: dict[str, np.ndarray], v: dict[str, np.ndarray], src: str, dst: str, *, cross: bool) -> None:
    """Split CTranslate2's fused projections into openai-whisper's query/key/value/out."""
    if cross:
        q_w, q_b = v[f"{src}/linear_0/weight"], v[f"{src}/linear_0/bias"]
        k_w, v_w = np.split(v[f"{src}/linear_1/weight"], 2)
        _, v_b = np.split(v[f"{src}/linear_1/bias"], 2)
        o = "linear_2"
    else:
        q_w, k_w, v_w = np.split(v[f"{src}/linear_0/weight"], 3)
        q_b, _, v_b = np.split(v[f"{src}/linear_0/bias"], 3)
        o = "linear_1"
    out.update({
        f"{dst}.query.weight": q_w, f"{dst}.query.bias": q_b, f"{dst}.key.weight": k_w,
        f"{dst}.value.weight": v_w, f"{dst}.value.bias": v_b,
        f"{dst}.out.weight": v[f"{src}/{o}/weight"], f"{dst}.out.bias": v[f"{src}/{o}/bias"],
    })


def _norm(out: dict[str, np.ndarray], v: dict[str, np.ndarray], src: str, dst: str) -> None:
    out[f"{dst}.weight"], out[f"{dst}.bias"] = v[f"{src}/gamma"], v[f"{src}/beta"]


def _block(out: dict[str, np.ndarray], v: dict[str, np.ndarray], side: str, i: int) -> None:
    src, dst = f"{side}/layer_{i}", f"{side}.blocks.{i}"
    _attention(out, v, f"{src}/self_attention", f"{dst}.attn", cross=False)
    _norm(out, v, f"{src}/self_attention/layer_norm", f"{dst}.attn_ln")
    if side == "decoder":
        _attention(out, v, f"{src}/attention", f"{dst}.cross_attn", cross=True)
        _norm(out, v, f"{src}/attention/layer_norm", f"{dst}.cross_attn_ln")
    for j, k in ((0, 0), (1, 2)):
        out[f"{dst}.mlp.{k}.weight"] = v[f"{src}/ffn/linear_{j}/weight"]
        out[f"{dst}.mlp.{k}.bias"] = v[f"{src}/ffn/linear_{j}/bias"]
    _norm(out, v, f"{src}/ffn/layer_norm", f"{dst}.mlp_ln")


def state_dict_of(variables: dict[str, np.ndarray], dims: dict[str, int]) -> dict[str, np.ndarray]:
    """openai-whisper `state_dict` arrays (numpy, stored precision) from CTranslate2 variables."""
    v = variables
    out: dict[str, np.ndarray] = {
        "encoder.positional_embedding": v["encoder/position_encodings/encodings"],
        "encoder.conv1.weight": v["encoder/conv1/weight"], "encoder.conv1.bias": v["encoder/conv1/bias"],
        "encoder.conv2.weight": v["encoder/conv2/weight"], "encoder.conv2.bias": v["encoder/conv2/bias"],
        "decoder.token_embedding.weight": v["decoder/embeddings/weight"],
        "decoder.positional_embedding": v["decoder/position_encodings/encodings"],
    }
    _norm(out, v, "encoder/layer_norm", "encoder.ln_post")
    _norm(out, v, "decoder/layer_norm", "decoder.ln")
    for i in range(dims["n_audio_layer"]):
        _block(out, v, "encoder", i)
    for i in range(dims["n_text_layer"]):
        _block(out, v, "decoder", i)
    return out


def convert(ct2_dir: Path, target: Path, provenance: dict[str, Any] | None = None) -> None:
    """Write the openai-whisper checkpoint of the CTranslate2 model in `ct2_dir` to `target` (atomically)."""
    import torch

    try:
        variables = read_ct2_model(ct2_dir / "model.bin")
        config = json.loads((ct2_dir / "config.json").read_text(encoding="utf-8"))
        dims = dims_of(variables)
        state = {k: torch.from_numpy(np.array(a, copy=True)) for k, a in state_dict_of(variables, dims).items()}
    except (KeyError, IndexError, ValueError, OSError) as exc:
        raise ConversionError(f"cannot convert the CTranslate2 model ({type(exc).__name__})") from exc
    checkpoint = {
        "dims": dims,
        "model_state_dict": state,
        "alignment_heads": [[int(a), int(b)] for a, b in config.get("alignment_heads", [])],
        "hilum": dict(provenance or {}),
    }
    tmp = target.with_name(target.name + ".tmp")
    target.parent.mkdir(parents=True, exist_ok=True)
    torch.save(checkpoint, tmp)
    tmp.replace(target)
