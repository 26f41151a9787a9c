"""Real translation models, made here: a SentencePiece model trained on the manuscript and a
CTranslate2 transformer with random weights, packed the two ways press installs them.

Models cannot be downloaded here, and quality is not what the tests check: random weights give
garbage text through the very code path a real NLLB or Argos model takes.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np
import sentencepiece as spm
from ctranslate2.converters.converter import Converter
from ctranslate2.specs import TransformerSpec

ROOT = Path(__file__).resolve().parents[1]
MANUSCRIPT = ROOT / "source" / "manuscript.txt"
NLLB_TOKENS = ["eng_Latn", "khm_Khmr", "jpn_Jpan"]


def train_sentencepiece(target: Path, *, vocab_size: int = 400, extra_symbols: list[str] | None = None) -> Path:
    """A SentencePiece model trained on the manuscript's lines."""
    lines = [line.strip() for line in MANUSCRIPT.read_text(encoding="utf-8").splitlines() if line.strip()]
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(sentence_iterator=iter(lines), model_writer=model, vocab_size=vocab_size,
                                   user_defined_symbols=extra_symbols or [], character_coverage=1.0,
                                   minloglevel=2, num_threads=1)
    target.write_bytes(model.getvalue())
    return target


class RandomTransformer(Converter):
    """A converter whose 'source model' is a random number generator: the converter API, no PyTorch."""

    def __init__(self, vocabulary: list[str], *, layers: int, width: int, heads: int, ffn: int, seed: int = 0):
        self.vocabulary, self.layers, self.width, self.heads, self.ffn = vocabulary, layers, width, heads, ffn
        self.random = np.random.default_rng(seed)

    def _load(self) -> TransformerSpec:
        spec = TransformerSpec.from_config(self.layers, self.heads)
        for name, value in spec.variables(ordered=True):
            if value is None:
                self._fill(spec, name)
        spec.register_source_vocabulary(self.vocabulary)
        spec.register_target_vocabulary(self.vocabulary)
        return spec

    def _fill(self, spec: TransformerSpec, name: str) -> None:
        scope, attribute = name.rsplit("/", 1)
        owner = spec
        for part in scope.split("/"):
            if hasattr(owner, part):
                owner = getattr(owner, part)
            else:  # "layer_3" is the fourth item of the list "layer"
                base, index = part.rsplit("_", 1)
                owner = getattr(owner, base)[int(index)]
        setattr(owner, attribute, self._weights(name, attribute))

    def _weights(self, name: str, attribute: str) -> np.ndarray:
        d, v = self.width, len(self.vocabulary)
        if attribute == "gamma":
            return np.ones(d, dtype=np.float32)
        if attribute in ("beta", "bias"):
            return np.zeros(d, dtype=np.float32)
        if "embeddings" in name or "projection" in name:
            shape = (v, d)
        elif "ffn/linear_0" in name:
            shape = (self.ffn, d)
        elif "ffn/linear_1" in name:
            shape = (d, self.ffn)
        elif "self_attention/linear_0" in name:
            shape = (3 * d, d)
        elif name.endswith("attention/linear_1/weight") and "/self_attention/" not in name:
            shape = (2 * d, d)  # encoder-decoder attention: keys and values from the encoder
        else:
            shape = (d, d)
        return (self.random.standard_normal(shape) * 0.2).astype(np.float32)


def build_ctranslate2_model(directory: Path, vocabulary: list[str], *, layers: int = 2, width: int = 64,
                            heads: int = 4, ffn: int = 128, seed: int = 0) -> Path:
    RandomTransformer(vocabulary, layers=layers, width=width, heads=heads, ffn=ffn, seed=seed).convert(str(directory))
    return directory


def vocabulary_of(sentencepiece_model: Path) -> list[str]:
    processor = spm.SentencePieceProcessor(model_file=str(sentencepiece_model))
    return [processor.id_to_piece(i) for i in range(processor.get_piece_size())]


def build_argos_package(target: Path, work: Path, *, to_code: str = "ja", from_code: str = "en", **dims) -> Path:
    """An .argosmodel: a zip of one directory with metadata.json, model/ and sentencepiece.model."""
    package = work / f"translate-{from_code}_{to_code}"
    package.mkdir(parents=True)
    train_sentencepiece(package / "sentencepiece.model")
    build_ctranslate2_model(package / "model", vocabulary_of(package / "sentencepiece.model"), **dims)
    (package / "metadata.json").write_text(json.dumps({
        "package_version": "1.1", "argos_version": "1.1", "from_code": from_code, "from_name": "English",
        "to_code": to_code, "to_name": {"ja": "Japanese", "km": "Khmer"}.get(to_code, to_code),
        "links": [f"file://{target}"]}))
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(package.rglob("*")):
            archive.write(path, path.relative_to(work))
    return target


def build_multilingual_model(directory: Path, **dims) -> Path:
    """A CTranslate2 model directory in NLLB's layout: language tokens in the vocabulary, its tokenizer beside it."""
    directory.mkdir(parents=True)
    tokenizer = train_sentencepiece(directory.parent / f"{directory.name}.spm", extra_symbols=NLLB_TOKENS)
    build_ctranslate2_model(directory / "ct2", vocabulary_of(tokenizer), **dims)
    for path in (directory / "ct2").iterdir():
        path.rename(directory / path.name)
    (directory / "ct2").rmdir()
    tokenizer.rename(directory / "sentencepiece.bpe.model")
    return directory
