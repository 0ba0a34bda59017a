"""How the topic encoder (`index/retrieval/topic_encoder.py`, `index/weights/topics.safetensors`) and
the short rule that reads its cosines (`TopicRule.short_*`) are trained.

    python -m training.topic_encoder [--epochs 6] [--lr 2e-5] [--layers 6] [--out index/weights/topics.safetensors]

MiniLM's layers are tuned so that a topic's vector lies where the (untuned) passage vectors of short
stories about it lie: for each batch of topics, the cosine of each topic with every story, scaled and
shifted by two learned numbers, is the chance the story is about the topic (binary cross-entropy); a
topic's labelled stories weigh 1, every other topic's stories are weak negatives (weight
OTHERS_WEIGHT: another topic's story is seldom about this one). The word embeddings stay as the
bundled model has them; the file holds the tuned layers only, in float16.

Trained on `training/data/topic_stories.json` (186 topics over 2,292 short stories written in our own
words for this: stories about each topic, most of them without its words, hard negatives and
unrelated ones) and the labelled sets' tune parts (`training.topics`: the topic set's stories cut to
headline and first paragraph, short_topics.json's tune topics). The short rule is fitted on those
tune parts, but on cosines the shipped encoder would overfit: each tune pair's cosine comes from one
of FOLDS encoders trained without its topic (cross-fitting), and the rule (a logistic model and its
cut-off, `training.topics.fit_rows`) is fitted on them. The encoder shipped is then trained on
everything. The held parts, and plain_short_topics.json whole, are never trained on: the report
(`python benchmarks/topics.py --short-only`). Needs ../shared/data/realtimeqa/ (the topic set's stories).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
WRITTEN = ROOT / "training" / "data" / "topic_stories.json"
OUT = ROOT / "index" / "weights" / "topics.safetensors"
OTHERS_WEIGHT = 0.05  # another topic's story, as a negative of this one
TOPICS_A_STEP = 16
SEED = 13
FOLDS = 5  # cross-fitting folds of the tune topics


@dataclass
class Labelled:
    """Topics, story vectors and the labelled (topic, story, about) pairs between them."""

    topics: list[str]
    vectors: np.ndarray  # stories x width, unit length
    pairs: list[tuple[int, int, bool]]  # topic index, story index, about
    stories: list[tuple[str, str]]  # headline, summary

    def without(self, fold: int) -> Labelled:
        """The set less the pairs of its topics in `fold` (of FOLDS, by position)."""
        kept = [(t, s, about) for t, s, about in self.pairs if t % FOLDS != fold]
        return Labelled(self.topics, self.vectors, kept, self.stories)


def written_stories(path: Path = WRITTEN) -> tuple[list[str], list[tuple[str, str]], list[tuple[int, int, bool]]]:
    """The written training set: topics, (headline, summary) stories, (topic, story, about) pairs."""
    data = json.loads(path.read_text(encoding="utf-8"))
    topics: list[str] = []
    stories: list[tuple[str, str]] = []
    pairs = []
    for entry in data["topics"]:
        topics.append(entry["topic"])
        for story in entry["stories"]:
            pairs.append((len(topics) - 1, len(stories), bool(story["about"])))
            stories.append((story["headline"], story["summary"]))
    return topics, stories, pairs


def embedded(embedder, topics: list[str], stories: list[tuple[str, str]], pairs) -> Labelled:
    """Stories embedded as the library embeds a one-passage story (headline, then text)."""
    from index.intake.ingest import passage_input

    vectors = embedder.encode([passage_input(title, text) for title, text in stories])
    return Labelled(topics, vectors, pairs, stories)


def joined(parts: list[Labelled]) -> Labelled:
    """Several labelled sets as one (their topics and stories side by side)."""
    topics: list[str] = []
    stories: list[tuple[str, str]] = []
    pairs = []
    for part in parts:
        pairs += [(len(topics) + t, len(stories) + s, about) for t, s, about in part.pairs]
        topics += part.topics
        stories += part.stories
    return Labelled(topics, np.vstack([part.vectors for part in parts]), pairs, stories)


def tune_parts(embedder) -> dict[str, Labelled]:
    """The labelled sets' tune parts, embedded: the topic set's stories cut short (only where the shared
    RealTime QA data is) and short_topics.json's."""
    from training import short_stories
    from training.topics import REALTIMEQA, topic_set

    found = {}
    written_pairs, written_articles = short_stories.written()
    sets = [("short topics", written_pairs, written_articles)]
    if (REALTIMEQA / "2024" / "articles.jsonl.gz").exists():
        labelled, _, records = topic_set()
        sets.insert(0, ("short versions", labelled, short_stories.shortened(records)))
    for name, labelled, articles in sets:
        kept = [(topic, key, about) for topic, part, key, about in labelled if part == "tune" and key in articles]
        topics = sorted({topic for topic, *_ in kept})
        keys = sorted({key for _, key, _ in kept})
        pairs = [(topics.index(topic), keys.index(key), about) for topic, key, about in kept]
        stories = [(articles[key].title, articles[key].text) for key in keys]
        found[name] = embedded(embedder, topics, stories, pairs)
    return found


def recall_at(scores: np.ndarray, truth: np.ndarray, precision: float = 0.85) -> tuple[float, float]:
    """The highest recall at a cut-off with at least `precision`, and the chance a story about the
    topic scores above one that is not (AUC, all topics pooled)."""
    best = 0.0
    for cut in np.unique(scores):
        said = scores >= cut
        right = int((said & truth).sum())
        if said.sum() and right / said.sum() >= precision:
            best = max(best, right / truth.sum())
    auc = float((scores[truth][:, None] > scores[~truth][None, :]).mean())
    return best, auc


class TopicTrainer:
    """MiniLM's top `layers` layers tuned, the rest (and the word embeddings) as bundled."""

    def __init__(self, layers: int, lr: float) -> None:
        import torch

        from index.backbone import Bert, BertShape, bundled_model_path, load_tokenizer

        torch.manual_seed(SEED)
        folder = Path(bundled_model_path())
        self.torch = torch
        self.tokenizer = load_tokenizer(str(folder))
        self.bert = Bert(BertShape.read(folder)).load_checkpoint(folder / "model.safetensors")
        total = len(self.bert.encoder.layer)
        self.tuned = [f"encoder.layer.{i}." for i in range(total - layers, total)]
        for name, parameter in self.bert.named_parameters():
            parameter.requires_grad = name.startswith(tuple(self.tuned))
        self.scale = torch.nn.Parameter(torch.tensor(20.0))
        self.shift = torch.nn.Parameter(torch.tensor(-8.0))
        trained = [p for p in self.bert.parameters() if p.requires_grad]
        self.optimizer = torch.optim.AdamW(
            [{"params": trained, "lr": lr}, {"params": [self.scale, self.shift], "lr": 1e-2}], weight_decay=0.01
        )

    def encode(self, topics: list[str]):
        torch = self.torch
        inputs = self.tokenizer(topics, padding=True, truncation=True, max_length=64, return_tensors="pt")
        tokens = self.bert(inputs["input_ids"], inputs["attention_mask"], inputs.get("token_type_ids"))
        mask = inputs["attention_mask"].unsqueeze(-1).to(tokens.dtype)
        mean = (tokens * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
        return torch.nn.functional.normalize(mean, dim=-1)

    def vectors(self, topics: list[str]) -> np.ndarray:
        self.bert.eval()
        with self.torch.no_grad():
            return self.encode(topics).numpy()

    def epoch(self, data: Labelled, rng: random.Random) -> float:
        torch = self.torch
        self.bert.train()
        stories = torch.tensor(data.vectors)
        by_topic: dict[int, list[tuple[int, bool]]] = {}
        for topic, story, about in data.pairs:
            by_topic.setdefault(topic, []).append((story, about))
        order = sorted(by_topic)
        rng.shuffle(order)
        total = 0.0
        for begin in range(0, len(order), TOPICS_A_STEP):
            batch = order[begin : begin + TOPICS_A_STEP]
            logits = self.scale * (self.encode([data.topics[t] for t in batch]) @ stories.T) + self.shift
            target = torch.zeros_like(logits)
            weight = torch.full_like(logits, OTHERS_WEIGHT)
            for row, topic in enumerate(batch):
                for story, about in by_topic[topic]:
                    target[row, story], weight[row, story] = float(about), 1.0
            losses = torch.nn.functional.binary_cross_entropy_with_logits(logits, target, reduction="none")
            loss = (losses * weight).sum() / weight.sum()
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
            total += float(loss.detach()) * len(batch)
        return total / len(order)

    def save(self, out: Path) -> int:
        """The tuned layers, in float16; their size in bytes."""
        from safetensors.torch import save_file

        state = {
            name: tensor.detach().to(self.torch.float16).contiguous()
            for name, tensor in self.bert.state_dict().items()
            if name.startswith(tuple(self.tuned))
        }
        out.parent.mkdir(parents=True, exist_ok=True)
        save_file(state, str(out), metadata={"trained_by": "python -m training.topic_encoder"})
        return out.stat().st_size


def crossed_cosines(
    written: Labelled, checks: dict[str, Labelled], layers: int, lr: float, epochs: int
) -> dict[str, list[float]]:
    """Each tune pair's cosine by an encoder that never saw its topic: FOLDS encoders, each trained on
    the written set and the tune topics of the other folds (a pair's cosine, in `pairs` order)."""
    found = {name: [0.0] * len(part.pairs) for name, part in checks.items()}
    for fold in range(FOLDS):
        trainer = TopicTrainer(layers, lr)
        data = joined([written, *(part.without(fold) for part in checks.values())])
        rng = random.Random(SEED)
        for _ in range(epochs):
            trainer.epoch(data, rng)
        for name, part in checks.items():
            vectors = trainer.vectors(part.topics)
            for at, (t, s, _) in enumerate(part.pairs):
                if t % FOLDS == fold:
                    found[name][at] = float(vectors[t] @ part.vectors[s])
        print(f"  fold {fold + 1} of {FOLDS} trained", flush=True)
    return found


def short_rule_rows(checks: dict[str, Labelled], cosines: dict[str, list[float]]):
    """The short rule's tune rows: each tune pair's SHORT_FEATURES with its cross-fitted cosine."""
    from index.retrieval.topics import TopicFeatures, names_every_word
    from index.text import content_terms, lead_of
    from training.topics import TuneRow

    rows = []
    for name, part in checks.items():
        for (t, s, about), cosine in zip(part.pairs, cosines[name], strict=True):
            terms = set(content_terms(part.topics[t]))
            title, text = part.stories[s]
            headline = set(content_terms(title))
            lead = headline | set(content_terms(lead_of(text)))
            features = TopicFeatures(
                cosine, cosine, cosine, cosine, 1, len(terms),
                in_headline=bool(terms) and names_every_word(terms, headline),
                in_lead=bool(terms) and names_every_word(terms, lead),
                tuned=cosine,
            )  # fmt: skip
            rows.append(TuneRow(name, part.topics[t], features.short_values(), about))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--lr", type=float, default=2e-5)
    parser.add_argument("--layers", type=int, default=6, help="MiniLM's top layers tuned (of 6)")
    parser.add_argument("--written", type=Path, default=WRITTEN, help="the written training set")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    if not 1 <= args.layers <= 6 or args.epochs < 1 or args.lr <= 0:
        parser.error("--layers takes 1 to 6, --epochs at least 1, --lr above 0")
    from dataclasses import replace

    from index.retrieval import Embedder
    from index.retrieval.topics import TopicRule
    from training.topics import AIMED_PRECISION, AIMED_SHORT_PRECISION, fit_rows

    embedder = Embedder()
    started = time.monotonic()
    written = embedded(embedder, *written_stories(args.written))
    checks = tune_parts(embedder)
    if "short versions" not in checks:
        print("skipped: the shared RealTime QA data is absent (the topic set's short versions train and fit the rule)")
        return 0
    print(f"{len(written.topics)} written topics, {len(written.pairs)} labelled pairs; tune parts: ", end="")
    print(", ".join(f"{name} ({len(part.topics)} topics, {len(part.pairs)} pairs)" for name, part in checks.items()))
    print(f"cross-fitting the tune parts' cosines ({FOLDS} encoders of {args.epochs} epochs):")
    cosines = crossed_cosines(written, checks, args.layers, args.lr, args.epochs)
    for name, part in checks.items():
        recall, auc = recall_at(np.array(cosines[name]), np.array([about for *_, about in part.pairs]))
        print(f"  {name}: cross-fitted recall@P0.85 {recall:.3f}, AUC {auc:.3f}")
    aims = {"short versions": AIMED_PRECISION, "short topics": AIMED_SHORT_PRECISION}
    chosen = fit_rows(short_rule_rows(checks, cosines), aims, "the short rule")
    trainer = TopicTrainer(args.layers, args.lr)
    rng = random.Random(SEED)
    data = joined([written, *checks.values()])
    for epoch in range(args.epochs):
        loss = trainer.epoch(data, rng)
        elapsed = time.monotonic() - started
        print(f"the shipped encoder: epoch {epoch + 1} loss {loss:.4f} ({elapsed:.0f} s)", flush=True)
    size = trainer.save(args.out)
    print(f"wrote {args.out} ({size / 1e6:.1f} MB)")
    rule = replace(TopicRule(), short_bias=chosen.bias, short_weights=chosen.weights, short_threshold=chosen.threshold)
    print(f"the short rule for it (paste into index/retrieval/topics.py): short_bias={rule.short_bias},")
    print(f"    short_weights={rule.short_weights}, short_threshold={rule.short_threshold}")
    print("then report: python benchmarks/topics.py --short-only")
    return 0


if __name__ == "__main__":
    sys.exit(main())
