"""The backbone wing: the networks both the embedder (retrieval) and the reader stand on, and how
they load: the bundled MiniLM, the BERT body in plain PyTorch, tokenizers and models from
transformers and sentence-transformers, one thread at a time. The names below load on first use
(the BERT body imports torch)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from index import lazy_names

_HOMES = {
    "Bert": "index.backbone.bert",
    "BertShape": "index.backbone.bert",
    "bundled_model_path": "index.backbone.loading",
    "load_sentence_transformer": "index.backbone.loading",
    "load_tokenizer": "index.backbone.loading",
    "load_transformers_model": "index.backbone.loading",
}

__all__ = [
    "Bert",
    "BertShape",
    "bundled_model_path",
    "load_sentence_transformer",
    "load_tokenizer",
    "load_transformers_model",
]

if TYPE_CHECKING:
    from index.backbone.bert import Bert, BertShape
    from index.backbone.loading import (
        bundled_model_path,
        load_sentence_transformer,
        load_tokenizer,
        load_transformers_model,
    )


__getattr__ = lazy_names(__name__, _HOMES)
