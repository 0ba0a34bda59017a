"""A BERT encoder in plain PyTorch, the arithmetic of transformers' `BertModel` (SDPA attention,
exact GELU, post-layer-norm) under the same parameter names, so the same checkpoints load into it
and it reads them the same, bit for bit (`tests/test_reader.py` compares the two).

Why not `transformers.BertModel` itself: importing it pulls in transformers' model machinery
(distributed tensors, the compiler, sympy), a second and a half of every new `newsbot ask`
process's start before its first answer, for a six-layer encoder this file spells out in full.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F  # noqa: N812


@dataclass(frozen=True)
class BertShape:
    vocab_size: int
    hidden_size: int
    num_hidden_layers: int
    num_attention_heads: int
    intermediate_size: int
    max_position_embeddings: int
    type_vocab_size: int
    layer_norm_eps: float
    hidden_dropout_prob: float = 0.1
    attention_probs_dropout_prob: float = 0.1

    @classmethod
    def read(cls, folder: Path) -> BertShape:
        """The shape in a checkpoint's config.json; ValueError for anything but a plain BERT."""
        config = json.loads((Path(folder) / "config.json").read_text(encoding="utf-8"))
        if config.get("model_type") != "bert" or config.get("hidden_act", "gelu") != "gelu":
            raise ValueError(f"{folder} is not a BERT checkpoint with GELU activations")
        if config.get("position_embedding_type", "absolute") != "absolute" or config.get("is_decoder"):
            raise ValueError(f"{folder} is not a plain BERT encoder")
        return cls(**{name: config[name] for name in cls.__dataclass_fields__ if name in config})


class _Embeddings(nn.Module):
    position_ids: torch.Tensor  # a buffer

    def __init__(self, shape: BertShape) -> None:
        super().__init__()
        self.word_embeddings = nn.Embedding(shape.vocab_size, shape.hidden_size, padding_idx=0)
        self.position_embeddings = nn.Embedding(shape.max_position_embeddings, shape.hidden_size)
        self.token_type_embeddings = nn.Embedding(shape.type_vocab_size, shape.hidden_size)
        self.LayerNorm = nn.LayerNorm(shape.hidden_size, eps=shape.layer_norm_eps)  # noqa: N815 (checkpoint name)
        self.dropout = nn.Dropout(shape.hidden_dropout_prob)
        self.register_buffer("position_ids", torch.arange(shape.max_position_embeddings).expand((1, -1)), False)

    def forward(self, input_ids: torch.Tensor, token_type_ids: torch.Tensor) -> torch.Tensor:
        positions = self.position_ids[:, : input_ids.shape[1]]
        embeddings = self.word_embeddings(input_ids) + self.token_type_embeddings(token_type_ids)
        embeddings = embeddings + self.position_embeddings(positions)
        embeddings = self.LayerNorm(embeddings)
        return self.dropout(embeddings) if self.training else embeddings  # reading: no module call


class _SelfAttention(nn.Module):
    def __init__(self, shape: BertShape) -> None:
        super().__init__()
        self.heads = shape.num_attention_heads
        self.head_size = shape.hidden_size // shape.num_attention_heads
        self.scaling = self.head_size**-0.5
        self.dropout = shape.attention_probs_dropout_prob
        self.query = nn.Linear(shape.hidden_size, shape.hidden_size)
        self.key = nn.Linear(shape.hidden_size, shape.hidden_size)
        self.value = nn.Linear(shape.hidden_size, shape.hidden_size)

    def forward(self, hidden: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        split = (*hidden.shape[:-1], -1, self.head_size)
        query = self.query(hidden).view(split).transpose(1, 2)
        key = self.key(hidden).view(split).transpose(1, 2)
        value = self.value(hidden).view(split).transpose(1, 2)
        output = F.scaled_dot_product_attention(
            query,
            key,
            value,
            attn_mask=mask,
            dropout_p=self.dropout if self.training else 0.0,
            scale=self.scaling,
            is_causal=False,
        )
        output = output.reshape(output.shape[0], -1, query.shape[2], value.shape[-1]).transpose(1, 2).contiguous()
        return output.reshape(*hidden.shape[:-1], -1).contiguous()


class _Output(nn.Module):
    """A dense layer, dropout, and the residual's layer norm (BertSelfOutput and BertOutput)."""

    def __init__(self, width_in: int, shape: BertShape) -> None:
        super().__init__()
        self.dense = nn.Linear(width_in, shape.hidden_size)
        self.LayerNorm = nn.LayerNorm(shape.hidden_size, eps=shape.layer_norm_eps)  # noqa: N815 (checkpoint name)
        self.dropout = nn.Dropout(shape.hidden_dropout_prob)

    def forward(self, hidden: torch.Tensor, residual: torch.Tensor) -> torch.Tensor:
        hidden = self.dense(hidden)
        return self.LayerNorm((self.dropout(hidden) if self.training else hidden) + residual)


class _Attention(nn.Module):
    def __init__(self, shape: BertShape) -> None:
        super().__init__()
        self.self = _SelfAttention(shape)
        self.output = _Output(shape.hidden_size, shape)

    def forward(self, hidden: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        return self.output(self.self(hidden, mask), hidden)


class _Intermediate(nn.Module):
    def __init__(self, shape: BertShape) -> None:
        super().__init__()
        self.dense = nn.Linear(shape.hidden_size, shape.intermediate_size)

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        return F.gelu(self.dense(hidden))


class _Layer(nn.Module):
    def __init__(self, shape: BertShape) -> None:
        super().__init__()
        self.attention = _Attention(shape)
        self.intermediate = _Intermediate(shape)
        self.output = _Output(shape.intermediate_size, shape)

    def forward(self, hidden: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        attended = self.attention(hidden, mask)
        return self.output(self.intermediate(attended), attended)


class _Encoder(nn.Module):
    def __init__(self, shape: BertShape) -> None:
        super().__init__()
        self.layer = nn.ModuleList(_Layer(shape) for _ in range(shape.num_hidden_layers))


class Bert(nn.Module):
    """BERT's encoder without the pooler: token vectors of the last layer."""

    def __init__(self, shape: BertShape) -> None:
        super().__init__()
        self.shape = shape
        self.embeddings = _Embeddings(shape)
        self.encoder = _Encoder(shape)

    @property
    def width(self) -> int:
        return self.shape.hidden_size

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor | None = None
    ) -> torch.Tensor:
        if token_type_ids is None:
            token_type_ids = torch.zeros_like(input_ids)
        hidden = self.embeddings(input_ids, token_type_ids)
        # As transformers does for SDPA: no mask when nothing is padding, else a boolean mask of the
        # keys to attend to, the same for every query.
        mask = None
        if not bool(attention_mask.all()):
            rows, length = attention_mask.shape
            mask = attention_mask.bool()[:, None, None, :].expand(rows, 1, length, length)
        for layer in self.encoder.layer:
            hidden = layer(hidden, mask)
        return hidden

    def load_checkpoint(self, weights: Path) -> Bert:
        """The tensors of a BERT safetensors file (a pooler's, or a "bert." prefix, ignored)."""
        from safetensors.torch import load_file

        state = {k.removeprefix("bert."): v for k, v in load_file(str(weights)).items()}
        state = {k: v for k, v in state.items() if not k.startswith(("pooler.", "cls.")) and "position_ids" not in k}
        missing, unexpected = self.load_state_dict(state, strict=False)
        missing = [k for k in missing if not k.endswith("position_ids")]
        if missing or unexpected:
            raise ValueError(
                f"{weights} does not fit a BERT encoder (missing {missing[:3]}, unexpected {unexpected[:3]})"
            )
        return self
