"""The transformers engine: the reference, ``AutoModelForSeq2SeqLM.generate()``.

Slower than CTranslate2 but the definition of the expected output: the CTranslate2
engine's tests compare against it (text, token count and confidence).
"""

from __future__ import annotations

from workflow.core.config import TranslationSettings
from workflow.core.errors import WorkflowError
from workflow.core.records import Translation
from workflow.translation.engines.base import Engine, device_for
from workflow.translation.hub import ResolvedModel


class TransformersEngine(Engine):
    """Reference engine: ``AutoModelForSeq2SeqLM.generate()`` (transformers 5 has no
    translation pipeline). Loads safetensors; pickle only when ``allow_pickle`` is set."""

    name = "transformers"

    def __init__(self, model: ResolvedModel, settings: TranslationSettings) -> None:
        super().__init__(model, settings)
        # imported here, not at the top: a fully cached rerun imports this module for
        # cache_settings() only, and torch + transformers cost 2-4 s to import
        import torch
        from transformers import AutoModelForSeq2SeqLM, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()  # "max_new_tokens and max_length both set" on every batch

        weights = model.weights(allow_pickle=settings.allow_pickle)
        self.device = device_for(self.decoding.device, torch.cuda.device_count)
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(str(model.folder), **self.family.tokenizer_kwargs())
            self.net = AutoModelForSeq2SeqLM.from_pretrained(
                str(model.folder), use_safetensors=weights.name.startswith("model.safetensors")
            )
        except Exception as e:  # noqa: BLE001 - a damaged checkpoint raises UnpicklingError, RuntimeError, EOFError ...
            first = str(e).splitlines()[0][:300] if str(e) else ""
            raise WorkflowError(f"{model.folder}: cannot load model ({type(e).__name__}: {first}); "
                                f"{weights.name} may be damaged or incomplete",
                                hint="Copy or download the model again.") from None
        self.net.to(self.device).eval()
        self.torch = torch

    def count_tokens(self, texts, target):
        enc = self.tokenizer([self.family.source_text(t, target) for t in texts], add_special_tokens=True)
        return [len(ids) for ids in enc["input_ids"]]

    def max_source_tokens(self) -> int:
        limits = [getattr(self.net.config, "max_position_embeddings", None), getattr(self.tokenizer, "model_max_length", None)]
        return min(int(x) for x in limits if x and x < 10**7) if any(x and x < 10**7 for x in limits) else 512

    def _forced_bos(self, target: str) -> int | None:
        prefix = self.family.target_prefix(target)
        return None if prefix is None else self.tokenizer.convert_tokens_to_ids(prefix)

    def _translate_batch(self, texts, target):
        torch = self.torch
        enc = self.tokenizer([self.family.source_text(t, target) for t in texts], return_tensors="pt", padding=True)
        enc = {k: v.to(self.device) for k, v in enc.items()}
        max_new = self.max_new_tokens(int(enc["attention_mask"].sum(dim=1).max()))  # one bucket per batch
        forced = self._forced_bos(target)
        kwargs = dict(num_beams=self.decoding.beam_size, do_sample=False, max_new_tokens=max_new,
                      output_scores=True, return_dict_in_generate=True)
        if forced is not None:
            kwargs["forced_bos_token_id"] = forced
        with torch.inference_mode():
            out = self.net.generate(**enc, **kwargs)
            beam_indices = getattr(out, "beam_indices", None) if self.decoding.beam_size > 1 else None
            trans = self.net.compute_transition_scores(out.sequences, out.scores, beam_indices, normalize_logits=beam_indices is None)
        seqs = out.sequences[:, 1:]  # drop the decoder start token
        pad = self.net.config.pad_token_id
        eos = self.net.config.eos_token_id
        skip_first = 1 if forced is not None else 0  # the forced language token is not the model's choice
        results = []
        for row in range(seqs.shape[0]):
            ids = seqs[row].tolist()
            scores = trans[row].tolist()
            keep = []
            for pos, tok in enumerate(ids):
                if pos < skip_first:
                    continue
                if tok == pad and tok != eos:
                    break
                keep.append(scores[pos])
                if tok == eos:
                    break
            finite = [s for s in keep if s > float("-inf")]
            text = self.tokenizer.decode(ids, skip_special_tokens=True).strip()
            results.append(Translation(text, (sum(finite) / len(finite)) if finite else None, len(finite)))
        return results
