"""Machine-translation engines behind one small interface: a batch of sentences in, drafts out.

Both engines run CTranslate2 directly, on sentences press has already split (Argos's own
``translate()`` would fetch a sentence splitter from the network and translate one segment at
a time). They differ in how a model is packaged and how the target language is chosen:

* ``argos``: an installed Argos Translate package (one language pair), read through Argos's own
  package API — metadata, model path, tokenizer (SentencePiece or BPE), optional target prefix;
* ``ctranslate2``: a multilingual CTranslate2 conversion with a SentencePiece tokenizer, where a
  language token picks the target: NLLB-200 (``khm_Khmr``), M2M-100 (``__km__``), MADLAD-400 (``<2km>``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from ..errors import InputError

TOKENIZER_NAMES = ("sentencepiece.bpe.model", "sentencepiece.model", "spm.model", "spiece.model")
NLLB_CODES = {"en": "eng_Latn", "km": "khm_Khmr", "ja": "jpn_Jpan", "th": "tha_Thai", "vi": "vie_Latn",
              "zh": "zho_Hans", "ko": "kor_Hang", "fr": "fra_Latn", "id": "ind_Latn", "lo": "lao_Laoo"}


@dataclass(frozen=True)
class LanguageTokens:
    """How a multilingual model family is told the languages: tokens around the source, a target prefix."""

    family: str
    source_prefix: Callable[[str, str], list[str]]  # (source, target) -> tokens before the sentence
    target_prefix: Callable[[str], list[str]]

    def tokens_needed(self, source: str, target: str) -> list[str]:
        return [*self.source_prefix(source, target), *self.target_prefix(target)]


FAMILIES = (
    LanguageTokens("nllb", lambda s, t: [NLLB_CODES.get(s, s)], lambda t: [NLLB_CODES.get(t, t)]),
    LanguageTokens("m2m100", lambda s, t: [f"__{s}__"], lambda t: [f"__{t}__"]),
    LanguageTokens("madlad", lambda s, t: [f"<2{t}>"], lambda t: []),
)


@dataclass(frozen=True)
class Device:
    """Where CTranslate2 runs a model, and with which arithmetic (named in the drafting summary)."""

    name: str  # "cpu" or "cuda"
    compute_type: str  # a CTranslate2 compute type; "default" keeps the model's own

    def __str__(self) -> str:
        return self.name if self.compute_type == "default" else f"{self.name} ({self.compute_type})"


GPU_COMPUTE_TYPES = ("int8_float16", "float16")  # fastest first: int8 weights with float16 arithmetic


def choose_device(preference: str = "auto", compute_type: str = "auto") -> Device:
    """``[translation] device``: "auto" takes a GPU when CTranslate2 sees one (get_cuda_device_count), else the CPU;
    ``compute_type`` "auto" picks int8_float16 (or float16) on a GPU and keeps the model's own type on the CPU."""
    import ctranslate2
    from ..errors import EnvironmentProblem
    gpus = ctranslate2.get_cuda_device_count() if preference in ("auto", "cuda") else 0
    if preference == "cuda" and gpus == 0:
        raise EnvironmentProblem("[translation] device = \"cuda\" but CTranslate2 sees no CUDA GPU",
                                 hint="set device = \"auto\" (or \"cpu\") in source/book.toml, or install the GPU driver")
    name = "cuda" if gpus > 0 else "cpu"
    if compute_type != "auto":
        return Device(name, compute_type)
    if name == "cuda":
        supported = ctranslate2.get_supported_compute_types("cuda")
        return Device(name, next((t for t in GPU_COMPUTE_TYPES if t in supported), "default"))
    return Device(name, "default")


class Engine(Protocol):
    """What drafting needs from an engine: a name for the provenance comment and batch translation."""

    kind: str
    model_dir: Path

    def translate(self, sentences: list[str], *, beam_size: int, max_decoding_length: int) -> list[str]: ...


class _Tokenizer(Protocol):
    def encode(self, sentence: str) -> list[str]: ...

    def decode(self, tokens: list[str]) -> str: ...


class _Seq2Seq:
    """SentencePiece (or BPE) tokens → CTranslate2 translate_batch → text, with language framing."""

    def __init__(self, kind: str, model_dir: Path, translator_dir: Path, tokenizer: _Tokenizer,
                 source_prefix: list[str], target_prefix: list[str], source_suffix: list[str],
                 device: Device | None = None):
        import ctranslate2
        self.kind, self.model_dir, self.tokenizer = kind, model_dir, tokenizer
        self.source_prefix, self.target_prefix, self.source_suffix = source_prefix, target_prefix, source_suffix
        self.device = device or Device("cpu", "default")
        try:
            self.translator = ctranslate2.Translator(str(translator_dir), device=self.device.name,
                                                     compute_type=self.device.compute_type, inter_threads=1,
                                                     intra_threads=0)
        except (RuntimeError, ValueError, OSError) as error:
            raise InputError(f"CTranslate2 cannot load the model ({error})", translator_dir,
                             hint="the model is damaged or not a CTranslate2 model; install it again")

    def tokenize(self, sentences: list[str]) -> list[list[str]]:
        return [[*self.source_prefix, *self.tokenizer.encode(s), *self.source_suffix] for s in sentences]

    def translate(self, sentences: list[str], *, beam_size: int, max_decoding_length: int) -> list[str]:
        if not sentences:
            return []
        results = self.translator.translate_batch(
            self.tokenize(sentences), target_prefix=[self.target_prefix] * len(sentences) if self.target_prefix else None,
            beam_size=beam_size, max_batch_size=len(sentences), max_decoding_length=max_decoding_length)
        return [self.detokenize(result.hypotheses[0]) for result in results]

    def detokenize(self, tokens: list[str]) -> str:
        if self.target_prefix and tokens[:len(self.target_prefix)] == self.target_prefix:
            tokens = tokens[len(self.target_prefix):]
        return self.tokenizer.decode(tokens).strip()


class _SentencePiece:
    def __init__(self, path: Path):
        import sentencepiece
        try:
            self.processor = sentencepiece.SentencePieceProcessor(model_file=str(path))
        except (RuntimeError, OSError) as error:
            raise InputError(f"the SentencePiece tokenizer cannot be read ({error})", path,
                             hint="the model is damaged; install it again")

    def encode(self, sentence: str) -> list[str]:
        return self.processor.encode(sentence, out_type=str)

    def decode(self, tokens: list[str]) -> str:
        return self.processor.decode_pieces(tokens)


# --------------------------------------------------------------------------- Argos packages


def read_argos_package(package_dir: Path):
    """Argos's own view of an installed package (metadata, tokenizer); refuses an incomplete one."""
    from argostranslate.package import Package
    try:
        package = Package(package_dir)
    except (FileNotFoundError, json.JSONDecodeError, UnicodeDecodeError, AttributeError, TypeError) as error:
        raise InputError(f"not an Argos package: metadata.json is missing or unreadable ({error})", package_dir,
                         hint="the .argosmodel is damaged or not an Argos Translate package")
    if not getattr(package, "tokenizer", None):
        raise InputError("the Argos package has no tokenizer (sentencepiece.model or bpe.model)", package_dir,
                         hint="the package is incomplete; download it again")
    if not (package_dir / "model" / "model.bin").is_file():
        raise InputError("the Argos package has no CTranslate2 model (model/model.bin)", package_dir,
                         hint="the package is incomplete; download it again")
    return package


def load_argos(package_dir: Path, source: str, target: str, device: Device | None = None) -> _Seq2Seq:
    package = read_argos_package(package_dir)
    if (package.from_code, package.to_code) != (source, target):
        raise InputError(f"the Argos package translates {package.from_code}→{package.to_code}, not {source}→{target}",
                         package_dir, hint=f"install an {source}→{target} package, or name the right one in "
                                           f"[translation.{target}] of source/book.toml")
    prefix = [package.target_prefix] if package.target_prefix else []
    return _Seq2Seq("argos", package_dir, package_dir / "model", package.tokenizer, [], prefix, [], device)


# --------------------------------------------------------------------------- multilingual CTranslate2 models


def tokenizer_path(model_dir: Path) -> Path:
    for name in TOKENIZER_NAMES:
        if (model_dir / name).is_file():
            return model_dir / name
    raise InputError("the model directory has no SentencePiece tokenizer", model_dir,
                     hint=f"copy the model's tokenizer next to model.bin (one of: {', '.join(TOKENIZER_NAMES)})")


def vocabulary(model_dir: Path) -> set[str]:
    """The target vocabulary of a CTranslate2 model directory (JSON list or one token a line)."""
    for name in ("shared_vocabulary", "target_vocabulary"):
        if (model_dir / f"{name}.json").is_file():
            try:
                return set(json.loads((model_dir / f"{name}.json").read_text(encoding="utf-8")))
            except (json.JSONDecodeError, UnicodeDecodeError) as error:
                raise InputError(f"the model's vocabulary is unreadable ({error})", model_dir / f"{name}.json")
        if (model_dir / f"{name}.txt").is_file():
            return set((model_dir / f"{name}.txt").read_text(encoding="utf-8").splitlines())
    raise InputError("not a CTranslate2 model directory (no vocabulary file)", model_dir,
                     hint="convert the model with CTranslate2's converters (e.g. ct2-transformers-converter)")


def language_family(words: set[str], source: str, target: str) -> LanguageTokens | None:
    return next((family for family in FAMILIES if all(t in words for t in family.tokens_needed(source, target))),
                None)


def multilingual_languages(model_dir: Path, source: str, candidates: list[str]) -> list[str]:
    """Which of ``candidates`` a multilingual model can translate into from ``source``."""
    words = vocabulary(model_dir)
    return [code for code in candidates if code != source and language_family(words, source, code)]


def load_multilingual(model_dir: Path, source: str, target: str, device: Device | None = None) -> _Seq2Seq:
    if not (model_dir / "model.bin").is_file():
        raise InputError("not a CTranslate2 model directory (no model.bin)", model_dir,
                         hint="convert the model with CTranslate2's converters first")
    tokenizer = _SentencePiece(tokenizer_path(model_dir))
    family = language_family(vocabulary(model_dir), source, target)
    if family is None:
        raise InputError(f"the model has no language tokens for {source}→{target} "
                         f"(looked for NLLB {NLLB_CODES.get(target, target)}, M2M-100 __{target}__, MADLAD <2{target}>)",
                         model_dir, hint="use a multilingual model that covers this language")
    return _Seq2Seq("ctranslate2", model_dir, model_dir, tokenizer, family.source_prefix(source, target),
                    family.target_prefix(target), ["</s>"], device)


LOADERS = {"argos": load_argos, "ctranslate2": load_multilingual}


def load_engine(kind: str, model_dir: Path, source: str, target: str, device: Device | None = None) -> Engine:
    return LOADERS[kind](model_dir, source, target, device)
