"""Tiny random-weight models with the same interfaces as the real ones.

No model can be downloaded on the project's machines, so tests and benchmarks build
their own: a multi-target Marian model like ``opus-mt-tc-big-en-zle`` (``>>bel<<`` /
``>>rus<<`` tokens, separate source/target sentencepiece models, shared embeddings) and
an NLLB-style M2M-100 model with FLORES-200 language codes, and an M2M-100 model like
``facebook/m2m100_418M`` (``__be__`` / ``__ru__`` tokens). They are saved to a folder
and loaded back through the same code path as real models. Their output is random text:
they prove interfaces, batching, caching and engine parity, not translation quality.
The recipes follow the measured notes in ``../shared/notes/toolchain.md``.
The builders are byte-reproducible (same arguments, same files), so the test fixtures
build each model once and keep it in a disk cache (``workflow.testing.cache``).
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

NLLB_CODES = ("eng_Latn", "bel_Cyrl", "rus_Cyrl", "ukr_Cyrl")


def _train_spm(texts: Sequence[str], prefix: Path, vocab_size: int, model_type: str = "unigram", **special) -> Path:
    import sentencepiece as spm

    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False, encoding="utf-8") as f:
        f.write("\n".join(t for t in texts if t.strip()))
        corpus = f.name
    spm.SentencePieceTrainer.train(
        input=corpus, model_prefix=str(prefix), vocab_size=vocab_size, model_type=model_type,
        character_coverage=1.0, hard_vocab_limit=False, minloglevel=2, **special,
    )
    Path(corpus).unlink()
    model_file = prefix.parent / (prefix.name + ".model")
    # the trainer records its temporary input and output paths: drop them, so that the
    # same texts give the same bytes (and the same model fingerprint) on every build
    from sentencepiece import sentencepiece_model_pb2

    proto = sentencepiece_model_pb2.ModelProto()
    proto.ParseFromString(model_file.read_bytes())
    proto.trainer_spec.ClearField("input")
    proto.trainer_spec.ClearField("model_prefix")
    model_file.write_bytes(proto.SerializeToString())
    return model_file


def build_marian(
    folder: Path,
    source_texts: Sequence[str],
    target_texts: Sequence[str],
    *,
    targets: Sequence[str] = ("bel", "rus"),
    d_model: int = 64,
    layers: int = 2,
    heads: int = 4,
    ffn: int = 128,
    vocab_size: int = 600,
    vocab_size_total: int | None = None,
    init_std: float = 0.2,
    seed: int = 0,
) -> Path:
    """A Marian model; ``targets`` empty gives a single-pair model (like opus-mt-en-ru).
    ``vocab_size_total`` pads the vocabulary to a real model's size (benchmarks).
    ``init_std`` 0.2 makes random outputs depend on the input; a model that is going to
    be trained (``train_copy``) learns far faster from a smaller one (0.05)."""
    import sentencepiece as spm
    import torch
    from transformers import GenerationConfig, MarianConfig, MarianMTModel, MarianTokenizer

    folder.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp())
    special = dict(bos_id=-1, eos_id=-1, pad_id=-1, unk_id=0)
    src_model = _train_spm(source_texts, work / "source", vocab_size, **special)
    tgt_model = _train_spm(target_texts, work / "target", vocab_size, **special)
    vocab: dict[str, int] = {"</s>": 0, "<unk>": 1}
    for t in targets:
        vocab[f">>{t}<<"] = len(vocab)
    for model_file in (src_model, tgt_model):
        sp = spm.SentencePieceProcessor(model_file=str(model_file))
        for i in range(sp.get_piece_size()):
            vocab.setdefault(sp.id_to_piece(i), len(vocab))
    if vocab_size_total:
        while len(vocab) < vocab_size_total - 1:
            vocab[f"<extra_{len(vocab)}>"] = len(vocab)
    vocab["<pad>"] = pad = len(vocab)
    (work / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")

    tok = MarianTokenizer(source_spm=str(src_model), target_spm=str(tgt_model), vocab=str(work / "vocab.json"),
                          source_lang="en", target_lang="zle", model_max_length=512)
    tok.save_pretrained(str(folder))
    shutil.rmtree(work, ignore_errors=True)
    config = MarianConfig(
        vocab_size=len(vocab), d_model=d_model, encoder_layers=layers, decoder_layers=layers,
        encoder_attention_heads=heads, decoder_attention_heads=heads,
        encoder_ffn_dim=ffn, decoder_ffn_dim=ffn, max_position_embeddings=512,
        pad_token_id=pad, decoder_start_token_id=pad, eos_token_id=0, forced_eos_token_id=0,
        share_encoder_decoder_embeddings=True, scale_embedding=True, tie_word_embeddings=True,
        init_std=init_std,  # 0.2: large enough that random outputs depend on the input
    )
    torch.manual_seed(seed)
    model = MarianMTModel(config).eval()
    model.save_pretrained(str(folder), safe_serialization=True)
    GenerationConfig(
        bad_words_ids=[[pad]], decoder_start_token_id=pad, eos_token_id=0, forced_eos_token_id=0,
        pad_token_id=pad, max_length=512, num_beams=1,
    ).save_pretrained(str(folder))
    return folder


def train_copy(
    folder: Path,
    texts: Sequence[str],
    *,
    steps: int = 300,
    lr: float = 3e-3,
    batch_size: int = 16,
    max_tokens: int = 32,
    target: str = "bel",
    seed: int = 0,
) -> Path:
    """Train a tiny Marian model (from ``build_marian``) in place to copy its input: gives
    the tiny model a confident distribution, like a trained model's, for quantisation tests.

    A random-weight model's next-token distribution is nearly flat, so int8 noise flips
    its greedy choices; after this training the model copies its source (the vocabulary
    is shared between source and target, so the labels are the source token ids without
    the ``>>target<<`` token) and ends with ``</s>``, with a clear margin per token.
    Sequences are the first ``max_tokens - 1`` tokens of each text plus ``</s>``: inputs
    of up to that length are copied. Byte-identical for a seed (one thread, whatever the
    cores); about 300 Adam steps of 16 sequences, a few seconds (numbers: bench/README.md).
    """
    import torch
    from transformers import MarianMTModel, MarianTokenizer

    tok = MarianTokenizer.from_pretrained(str(folder))
    model = MarianMTModel.from_pretrained(str(folder))
    pad, eos = model.config.pad_token_id, model.config.eos_token_id
    lang = tok.convert_tokens_to_ids(f">>{target}<<") if f">>{target}<<" in tok.get_vocab() else None
    prefix = f">>{target}<< " if lang is not None else ""
    seqs = []
    for text in texts:
        ids = [i for i in tok(prefix + text).input_ids if i not in (lang, eos)][: max_tokens - 1]
        if ids:
            seqs.append(ids + [eos])
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the same bytes on any machine: more threads sum in another order
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    try:
        opt = torch.optim.Adam(model.parameters(), lr=lr)
        model.train()
        for _ in range(steps):
            batch = [seqs[k] for k in torch.randint(len(seqs), (batch_size,), generator=gen).tolist()]
            src = [([lang] if lang is not None else []) + s for s in batch]
            width, out_width = max(map(len, src)), max(map(len, batch))
            input_ids = torch.tensor([s + [pad] * (width - len(s)) for s in src])
            labels = torch.tensor([s + [-100] * (out_width - len(s)) for s in batch])
            loss = model(input_ids=input_ids, attention_mask=(input_ids != pad).long(), labels=labels).loss
            opt.zero_grad()
            loss.backward()
            opt.step()
    finally:
        torch.set_num_threads(threads)
    model.eval()
    model.save_pretrained(str(folder), safe_serialization=True)
    return folder


def build_copy_marian(folder: Path, source_texts: Sequence[str], target_texts: Sequence[str],
                      copy_texts: Sequence[str], *, targets: Sequence[str] = ("bel", "rus"),
                      init_std: float = 0.05) -> Path:
    """``build_marian`` with a small ``init_std``, then ``train_copy`` on ``copy_texts``: one
    builder, so that the trained model is one recipe for the disk cache (``testing.cache``)."""
    build_marian(folder, source_texts, target_texts, targets=targets, init_std=init_std)
    return train_copy(folder, copy_texts)


def _save_m2m100_weights(folder: Path, *, vocab_size: int, pad: int, bos: int, eos: int, max_positions: int,
                         d_model: int, layers: int, heads: int, ffn: int, seed: int) -> None:
    """Random weights of the M2M-100 architecture (NLLB's too): decoding starts with ``</s>``,
    the target language is forced as the first generated token. Deterministic for a seed."""
    import torch
    from transformers import M2M100Config, M2M100ForConditionalGeneration

    config = M2M100Config(
        vocab_size=vocab_size, d_model=d_model, encoder_layers=layers, decoder_layers=layers,
        encoder_attention_heads=heads, decoder_attention_heads=heads,
        encoder_ffn_dim=ffn, decoder_ffn_dim=ffn, max_position_embeddings=max_positions,
        pad_token_id=pad, bos_token_id=bos, eos_token_id=eos, decoder_start_token_id=eos,
        scale_embedding=True, init_std=0.2,  # 0.2: large enough that random outputs depend on the input
    )
    torch.manual_seed(seed)
    model = M2M100ForConditionalGeneration(config).eval()
    model.save_pretrained(str(folder), safe_serialization=True)


def build_nllb(
    folder: Path,
    texts: Sequence[str],
    *,
    d_model: int = 64,
    layers: int = 2,
    heads: int = 4,
    ffn: int = 128,
    vocab_size: int = 800,
    seed: int = 0,
) -> Path:
    """An NLLB-style model (M2M-100 architecture, NllbTokenizer, FLORES-200 codes)."""
    from transformers import GenerationConfig, NllbTokenizer

    folder.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp())
    model_file = _train_spm(texts, work / "spm_bpe", vocab_size, model_type="bpe",
                            bos_id=0, pad_id=1, eos_id=2, unk_id=3)
    model_file.rename(work / "sentencepiece.bpe.model")
    tok = NllbTokenizer.from_pretrained(str(work), src_lang="eng_Latn", extra_special_tokens=list(NLLB_CODES))
    tok.save_pretrained(str(folder))
    shutil.rmtree(work, ignore_errors=True)
    _save_m2m100_weights(folder, vocab_size=len(tok), pad=tok.pad_token_id, bos=tok.bos_token_id,
                         eos=tok.eos_token_id, max_positions=512, d_model=d_model, layers=layers,
                         heads=heads, ffn=ffn, seed=seed)
    GenerationConfig(
        decoder_start_token_id=tok.eos_token_id, eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id,
        bos_token_id=tok.bos_token_id, max_length=512, num_beams=1,
    ).save_pretrained(str(folder))
    return folder


M2M100_SPECIALS = ("<s>", "<pad>", "</s>", "<unk>")  # the fairseq dictionary's ids 0-3


def build_m2m100(
    folder: Path,
    texts: Sequence[str],
    *,
    d_model: int = 64,
    layers: int = 2,
    heads: int = 4,
    ffn: int = 128,
    vocab_size: int = 800,
    seed: int = 0,
) -> Path:
    """An M2M-100 model laid out like ``facebook/m2m100_418M``.

    Tokenizer files as on the hub: ``sentencepiece.bpe.model`` (a BPE model trained on
    ``texts``), ``vocab.json`` (the fairseq dictionary: ``<s> <pad> </s> <unk>`` = 0-3, then
    the pieces), ``tokenizer_config.json`` (``M2M100Tokenizer``, ``language_codes`` m2m100,
    8 made-up words) and ``special_tokens_map.json`` listing the 100 language tokens
    (``__en__``, ``__be__``, ``__ru__``, ...) as additional special tokens. The tokenizer
    gives them the ids after the dictionary, in its own order (on the hub 128,004 + i), and
    the model's vocabulary ends with the 8 made-up words (128,004 + 100 + 8 = 128,112).
    Inputs are ``__en__ ... </s>``; ``decoder_start_token_id`` is ``</s>`` and the target
    language is forced as the first generated token. The generation config is the hub's
    (beam 5, max_length 200): callers must pass their own settings. Deterministic for a seed.

    The tokenizer files are written here, not by ``M2M100Tokenizer.save_pretrained``: with
    transformers 5 a tokenizer constructed in Python lists no language tokens as special
    (its own loop that should add them never does), so ``decode(skip_special_tokens=True)``
    keeps ``__be__`` in the text; listing only some of them gives them ids that differ from
    ``get_lang_id``. Listed all, in the tokenizer's order, as on the hub, both agree.
    """
    import sentencepiece as spm
    from transformers import GenerationConfig
    from transformers.models.m2m_100.tokenization_m2m_100 import FAIRSEQ_LANGUAGE_CODES

    folder.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp())
    model_file = _train_spm(texts, work / "spm_bpe", vocab_size, model_type="bpe")
    sp = spm.SentencePieceProcessor(model_file=str(model_file))
    vocab = {t: i for i, t in enumerate(M2M100_SPECIALS)}
    for i in range(sp.get_piece_size()):
        if not (sp.is_control(i) or sp.is_unknown(i)):
            vocab.setdefault(sp.id_to_piece(i), len(vocab))
    model_file.replace(folder / "sentencepiece.bpe.model")
    shutil.rmtree(work, ignore_errors=True)
    (folder / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False, indent=2), encoding="utf-8")
    lang_tokens = [f"__{code}__" for code in FAIRSEQ_LANGUAGE_CODES["m2m100"]]
    named = dict(bos_token="<s>", eos_token="</s>", sep_token="</s>", unk_token="<unk>", pad_token="<pad>")
    (folder / "tokenizer_config.json").write_text(json.dumps(
        dict(src_lang=None, tgt_lang=None, **named, language_codes="m2m100", num_madeup_words=8,
             model_max_length=1024, tokenizer_class="M2M100Tokenizer"), indent=2), encoding="utf-8")
    (folder / "special_tokens_map.json").write_text(json.dumps(
        dict(**named, additional_special_tokens=lang_tokens), indent=2), encoding="utf-8")

    bos, pad, eos = (vocab[t] for t in M2M100_SPECIALS[:3])
    _save_m2m100_weights(folder, vocab_size=len(vocab) + len(lang_tokens) + 8, pad=pad, bos=bos, eos=eos,
                         max_positions=1024, d_model=d_model, layers=layers, heads=heads, ffn=ffn, seed=seed)
    GenerationConfig(
        bos_token_id=bos, decoder_start_token_id=eos, eos_token_id=eos, pad_token_id=pad,
        early_stopping=True, max_length=200, num_beams=5,
    ).save_pretrained(str(folder))
    return folder
