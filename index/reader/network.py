"""The trained reader's network and its inputs: MiniLM (6 layers, 384 wide, from the bundled
all-MiniLM-L6-v2) with a start/end head for the answer span and a relevance head on [CLS].

One forward pass over `[CLS] question [SEP] headline | passage [SEP]` both scores the passage
(does it answer the question?) and points at the answer inside it. The shipped weights
(`index/weights/reader.safetensors`) hold only what training changed: the word, position and
token-type embeddings stay those of the MiniLM package and are read from it at load time. The
encoder is `index/backbone/bert.py`'s: transformers' BertModel bit for bit, without its import cost.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from index.backbone import Bert, BertShape, bundled_model_path, load_tokenizer, load_transformers_model
from index.reader.spans import MAX_ANSWER_TOKENS, SPANS_PER_WINDOW

MAX_QUESTION_TOKENS = 64  # the rest of a window (192 or 256 tokens) holds the headline and passage
TITLE_MARK = " | "  # between the headline and the passage in the second segment
FROZEN = (
    "bert.embeddings.word_embeddings",
    "bert.embeddings.position_embeddings",
    "bert.embeddings.token_type_embeddings",
)


def base_location() -> str:
    """The bundled MiniLM folder (model config, tokenizer, and the embeddings the reader reuses)."""
    return bundled_model_path()


class ReaderNet(nn.Module):
    def __init__(self, bert: Bert) -> None:
        super().__init__()
        self.bert = bert
        self.span = nn.Linear(bert.width, 2)
        self.relevance = nn.Linear(bert.width, 1)

    def forward(self, input_ids, attention_mask, token_type_ids):
        hidden = self.bert(input_ids, attention_mask, token_type_ids)
        start, end = self.span(hidden).unbind(-1)
        relevance = self.relevance(hidden[:, 0]).squeeze(-1)
        return start, end, relevance


def build_net(location: str | None = None) -> tuple[ReaderNet, object]:
    """A reader initialised from MiniLM (heads untrained), and its tokenizer. Loads from disk only."""
    location = location or base_location()
    tokenizer = load_tokenizer(location)
    bert = Bert(BertShape.read(Path(location))).load_checkpoint(Path(location) / "model.safetensors")
    return ReaderNet(bert), tokenizer


def load_trained(net: ReaderNet, weights: Path) -> ReaderNet:
    """Puts trained weights (a `save_net` file) into a network built from MiniLM."""
    from safetensors.torch import load_file

    state = {k: v.float() for k, v in load_file(str(weights)).items()}
    missing, unexpected = net.load_state_dict(state, strict=False)
    missing = [k for k in missing if not k.startswith(FROZEN)]
    if missing or unexpected:
        raise ValueError(f"reader weights do not fit the network: missing {missing[:3]}, unexpected {unexpected[:3]}")
    return net


def load_net(weights: Path, location: str | None = None) -> tuple[ReaderNet, object]:
    """The trained reader, ready to read: MiniLM's embeddings plus the shipped weights."""
    net, tokenizer = build_net(location)
    return load_trained(net, weights).eval(), tokenizer


@dataclass(frozen=True)
class Windows:
    """A batch of tokenised (question, passage) windows. `passage` maps a window to its passage,
    `offsets` give each token's characters in the passage text (None outside it)."""

    input_ids: torch.Tensor
    attention_mask: torch.Tensor
    token_type_ids: torch.Tensor
    passage: list[int]
    offsets: list[list[tuple[int, int] | None]]


def encode(
    tokenizer, question: str, passages: Sequence[tuple[str, str]], max_length: int = 256, stride: int = 64
) -> Windows:
    """Windows for one question over (headline, text) passages; a long passage spans several."""
    return encode_pairs(tokenizer, [(question, title, text) for title, text in passages], max_length, stride)


def short_question(tokenizer, question: str, most: int = MAX_QUESTION_TOKENS) -> str:
    """The question cut to its last `most` tokens, so a window always has room for the passage (a
    question longer than the window made the tokenizer panic). News quiz questions put their
    preamble first and the question itself last, so the end is kept."""
    tokens = tokenizer.tokenize(question)
    if len(tokens) <= most:
        return question
    return tokenizer.convert_tokens_to_string(tokens[-most:])


def encode_pairs(tokenizer, items: Sequence[tuple[str, str, str]], max_length: int = 256, stride: int = 64) -> Windows:
    """Windows for (question, headline, text) triples. Only the text's tokens may be an answer."""
    most = min(MAX_QUESTION_TOKENS, max_length - stride - 4)  # 3 special tokens; the text needs > stride
    if most < 1:
        raise ValueError(f"max_length {max_length} leaves no room for a question and a passage with stride {stride}")
    items = [(short_question(tokenizer, q, most), title, text) for q, title, text in items]
    seconds, prefixes = [], []
    for _, title, text in items:
        prefix = f"{title}{TITLE_MARK}" if title else ""
        seconds.append(prefix + text)
        prefixes.append(len(prefix))
    encoded = tokenizer(
        [q for q, _, _ in items],
        seconds,
        truncation="only_second",
        max_length=max_length,
        stride=stride,
        return_overflowing_tokens=True,
        return_offsets_mapping=True,
        padding="longest",
        return_tensors="pt",
    )
    mapping = encoded["overflow_to_sample_mapping"].tolist()
    offsets = []
    for row, item in enumerate(mapping):
        sequence = encoded.sequence_ids(row)
        skip = prefixes[item]
        row_offsets = []
        for (start, end), part in zip(encoded["offset_mapping"][row].tolist(), sequence, strict=True):
            row_offsets.append((start - skip, end - skip) if part == 1 and start >= skip and end > start else None)
        offsets.append(row_offsets)
    token_types = encoded.get("token_type_ids")
    if token_types is None:
        token_types = torch.zeros_like(encoded["input_ids"])
    return Windows(encoded["input_ids"], encoded["attention_mask"], token_types, mapping, offsets)


def run_windows(net, windows: Windows, one_by_one: bool = False):
    """Start and end logits and relevance (None for a net without that head) for every window.

    `one_by_one` runs each window alone, without padding. Dynamically quantized int8 layers scale
    their input by the range of the whole batch, so in a batch the other passages and the padding
    change how a passage is read (the README gives what that cost on news)."""
    if not one_by_one:
        return net(windows.input_ids, windows.attention_mask, windows.token_type_ids)
    rows, width = windows.input_ids.shape
    lengths = [int(n) for n in windows.attention_mask.sum(dim=1)]
    outputs = [
        net(
            windows.input_ids[r : r + 1, :n],
            windows.attention_mask[r : r + 1, :n],
            windows.token_type_ids[r : r + 1, :n],
        )
        for r, n in enumerate(lengths)
    ]
    start = torch.full((rows, width), -1e4)
    end = torch.full((rows, width), -1e4)
    for row, ((s, e, _), length) in enumerate(zip(outputs, lengths, strict=True)):
        start[row, :length], end[row, :length] = s[0], e[0]
    relevance = None if outputs[0][2] is None else torch.cat([r for _, _, r in outputs])
    return start, end, relevance


@dataclass(frozen=True)
class SpanGuess:
    start: int  # characters in the passage text
    end: int
    score: float  # start + end logit


def best_spans(
    start: torch.Tensor,
    end: torch.Tensor,
    windows: Windows,
    row: int,
    top: int = SPANS_PER_WINDOW,
    max_tokens: int = MAX_ANSWER_TOKENS,
) -> list[SpanGuess]:
    """The `top` highest-scoring spans of one window that lie in its passage text."""
    offsets = windows.offsets[row]
    allowed = [i for i, o in enumerate(offsets) if o is not None]
    if not allowed:
        return []
    index = torch.tensor(allowed)
    starts, ends = start[row, index], end[row, index]
    k = min(20, len(allowed))
    top_starts = torch.topk(starts, k).indices.tolist()
    top_ends = torch.topk(ends, k).indices.tolist()
    spans = []
    for s in top_starts:
        for e in top_ends:
            if e < s or allowed[e] - allowed[s] >= max_tokens:
                continue
            spans.append(SpanGuess(offsets[allowed[s]][0], offsets[allowed[e]][1], float(starts[s] + ends[e])))
    spans.sort(key=lambda g: -g.score)
    return spans[:top]


def quantize_attention(net):
    """Int8 matrix products in the attention layers only. Quantizing every linear layer read 2.4
    times as fast but cost 3.5 points of EM on held-out SQuAD (the feed-forward layers' inputs have
    outliers that one int8 scale per tensor flattens); the attention layers alone keep fp32's EM
    (52.0 against 52.2 on 600 questions) at 0.74 of its time."""
    attention = {
        name for name, module in net.named_modules() if isinstance(module, torch.nn.Linear) and "attention" in name
    }
    return torch.ao.quantization.quantize_dynamic(net, qconfig_spec=attention, dtype=torch.qint8)


def has_bfloat16() -> bool:
    """Whether this CPU multiplies bfloat16 matrices in hardware (AVX-512 BF16 or AMX): without it
    a bfloat16 product is emulated and slower than float32's."""
    try:  # private probes (torch.cpu): oneDNN's own check also says yes to AVX-512 without BF16
        return bool(torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported())
    except (AttributeError, RuntimeError):
        return False


class BFloat16Linear(nn.Module):
    """A linear layer whose matrix product runs in bfloat16 (accumulated in float32), taking and
    giving float32; the bias is added in float32. Unlike int8 there is no scale per batch: a
    bfloat16 number keeps float32's range, so the feed-forward layers' outliers stay."""

    weight: torch.Tensor  # buffers
    bias: torch.Tensor | None

    def __init__(self, linear: nn.Linear) -> None:
        super().__init__()
        self.register_buffer("weight", linear.weight.detach().to(torch.bfloat16))
        self.register_buffer("bias", None if linear.bias is None else linear.bias.detach().float())

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        product = nn.functional.linear(hidden.to(torch.bfloat16), self.weight).float()
        return product if self.bias is None else product + self.bias


def feed_forward_in_bfloat16(net):
    """The encoder's feed-forward layers (BERT's `intermediate.dense` and `output.dense`, two
    thirds of its arithmetic) as `BFloat16Linear`s, in place. On this project's 2-core build
    machine (AVX-512 BF16) they take 0.42 of float32's time."""
    for name, module in list(net.named_modules()):
        for child_name, child in list(module.named_children()):
            full = f"{name}.{child_name}"
            if not isinstance(child, nn.Linear) or "attention" in full:
                continue
            if full.endswith(("intermediate.dense", "output.dense")):
                setattr(module, child_name, BFloat16Linear(child))
    return net


def as_shipped(net, bfloat16: bool = True):
    """The network as the product reads it: int8 attention, and with `bfloat16` the feed-forward
    layers in bfloat16 where the CPU has bfloat16 instructions (float32 elsewhere)."""
    net = quantize_attention(net)
    return feed_forward_in_bfloat16(net) if bfloat16 and has_bfloat16() else net


class HubNet:
    """A Hugging Face QA model behind the reader network's call shape (no passage head)."""

    def __init__(self, model) -> None:
        self.model = model
        self.accepts_types = "token_type_ids" in model.forward.__code__.co_varnames

    def eval(self):
        self.model.eval()
        return self

    def __call__(self, input_ids, attention_mask, token_type_ids):
        extra = {"token_type_ids": token_type_ids} if self.accepts_types else {}
        output = self.model(input_ids=input_ids, attention_mask=attention_mask, **extra)
        return output.start_logits, output.end_logits, None


def hub_model(name: str):
    """A Hugging Face extractive-QA model and its tokenizer: a local folder is read from disk only;
    a hub name from the cache or the hub."""
    local = Path(name).expanduser().exists()
    location = str(Path(name).expanduser()) if local else name
    tokenizer = load_tokenizer(location, local_files_only=local)
    model = load_transformers_model("AutoModelForQuestionAnswering", location, local_files_only=local)
    return HubNet(model), tokenizer
