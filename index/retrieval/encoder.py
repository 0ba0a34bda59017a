"""A sentence-transformers model of the plainest shape (a transformer, mean pooling, optionally a
normalisation) run with transformers alone: the same vectors as `SentenceTransformer.encode`, without
importing sentence-transformers, whose import (scikit-learn, scipy) took longer than everything
else a new `newsbot ask` does before answering."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

_TRANSFORMER = "sentence_transformers.models.Transformer"
_POOLING = "sentence_transformers.models.Pooling"
_NORMALIZE = "sentence_transformers.models.Normalize"


def is_plain_mean_pooling(folder: Path) -> bool:
    """Whether the model in `folder` is a transformer with mean pooling (and maybe a normalisation)
    and nothing else, with no lower-casing: a model this module reads exactly as sentence-transformers does."""
    try:
        modules = json.loads((folder / "modules.json").read_text(encoding="utf-8"))
        kinds = [m["type"] for m in sorted(modules, key=lambda m: m["idx"])]
        if kinds not in ([_TRANSFORMER, _POOLING], [_TRANSFORMER, _POOLING, _NORMALIZE]) or modules[0]["path"]:
            return False
        pooling = json.loads((folder / modules[1]["path"] / "config.json").read_text(encoding="utf-8"))
        config = json.loads((folder / "sentence_bert_config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError, TypeError):
        return False
    modes = {k for k, v in pooling.items() if k.startswith("pooling_mode") and v}
    return modes == {"pooling_mode_mean_tokens"} and not config.get("do_lower_case") and "max_seq_length" in config


class PooledEncoder:
    """Encodes as `SentenceTransformer(folder).encode(texts, normalize_embeddings=True)` does: texts
    stripped, sorted by length, tokenised in batches (truncated at the model's max_seq_length), the
    transformer's token vectors averaged over the attention mask, then scaled to unit length."""

    def __init__(self, folder: Path, device: str = "cpu") -> None:
        import torch

        from index.backbone import load_tokenizer

        config = json.loads((folder / "sentence_bert_config.json").read_text(encoding="utf-8"))
        self.max_length = int(config["max_seq_length"])
        self.tokenizer = load_tokenizer(str(folder))
        self.model = _load_model(folder).to(device).eval()
        self.device = device
        self._torch = torch

    @property
    def dimension(self) -> int:
        model = self.model
        return int(model.width if hasattr(model, "width") else model.config.hidden_size)

    def encode(self, texts: Sequence[str], batch_size: int) -> np.ndarray:
        torch = self._torch
        order = np.argsort([-len(text) for text in texts])  # as sentence-transformers orders a call
        parts = []
        with torch.inference_mode():
            for begin in range(0, len(texts), batch_size):
                batch = [str(texts[i]).strip() for i in order[begin : begin + batch_size]]
                inputs = self.tokenizer(
                    batch, padding=True, truncation="longest_first", max_length=self.max_length, return_tensors="pt"
                ).to(self.device)
                tokens = self.model(inputs["input_ids"], inputs["attention_mask"], inputs.get("token_type_ids"))
                mask = inputs["attention_mask"].unsqueeze(-1).to(tokens.dtype)
                mean = (tokens * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
                parts.append(torch.nn.functional.normalize(mean, p=2, dim=1).cpu().numpy())
        vectors = np.vstack(parts) if parts else np.zeros((0, self.dimension), np.float32)
        return vectors[np.argsort(order)]


def _load_model(folder: Path):
    """`index/backbone/bert.py`'s encoder for a BERT checkpoint in safetensors (memory-mapped, and without
    importing transformers' model machinery: most of a new process's start); else transformers'."""
    from index.backbone import Bert, BertShape, load_transformers_model

    try:
        return Bert(BertShape.read(folder)).load_checkpoint(folder / "model.safetensors")
    except (OSError, ValueError, KeyError, TypeError):
        return _LastHidden(load_transformers_model("AutoModel", str(folder)))


class _LastHidden:
    """A transformers model called as `index.backbone.Bert` is: token vectors of the last layer."""

    def __init__(self, model) -> None:
        self.model = model
        self.config = model.config

    def to(self, device: str):
        self.model.to(device)
        return self

    def eval(self):
        self.model.eval()
        return self

    def __call__(self, input_ids, attention_mask, token_type_ids=None):
        extra = {"token_type_ids": token_type_ids} if token_type_ids is not None else {}
        return self.model(input_ids=input_ids, attention_mask=attention_mask, **extra).last_hidden_state
