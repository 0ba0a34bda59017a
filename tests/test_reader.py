"""The trained reader on small passages written for the tests, its parts, and the pluggable
Hugging Face path (with a tiny randomly initialised QA model built here: no hub)."""

from __future__ import annotations

import json
import math
import re
from dataclasses import asdict
from pathlib import Path

import pytest

from index.config import READ_PASSAGES
from index.errors import NewsbotError
from index.models import Hit, Story
from index.reader import ExtractiveReader
from index.reader.calibration import CALIBRATION_FILE, Calibration
from index.reader.extractive import Span, SpanPrior
from index.reader.spans import bare_name, crosses_sentences, normalise, pool, sentence_around, trim


def hit(text: str, title: str = "Local news", url: str = "https://x.test/a", passage_id: int = 1, rank: int = 0) -> Hit:
    return Hit(passage_id, text, Story(title, url, "2025-10-21", "wire"), 1.0, rank)


BRIDGE = hit(
    "The council met on Tuesday. The Harbour Bridge reopened on Monday after repairs that cost 4 million dollars. "
    "Mayor Ines Duarte cut the ribbon.",
    title="Harbour Bridge reopens",
)
WEATHER = hit(
    "Heavy rain is expected across the valley this weekend, forecasters said.", "Weather", "https://x.test/w", 2, 1
)


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Who cut the ribbon at the bridge?", "Ines Duarte"),
        ("How much did the bridge repairs cost?", "4 million dollars"),
    ],
)
def test_reads_the_answer_span_and_quotes_its_sentence(reader, question, expected):
    answer = ExtractiveReader(threshold=0.0, calibration=reader.calibration).answer(
        question, [WEATHER, BRIDGE], reader.reading(question, [WEATHER, BRIDGE])
    )
    assert expected in answer.text
    assert answer.quote[answer.answer_start : answer.answer_end] == answer.text
    assert answer.quote in BRIDGE.text and answer.quote.endswith(".")
    assert answer.story.url == BRIDGE.story.url


def test_passage_relevance_ranks_the_passage_that_answers_above_one_that_does_not(reader):
    question = "When did the Harbour Bridge reopen?"
    assert reader.reading(question, [WEATHER, BRIDGE]).best.hit is BRIDGE
    with_answer = reader.reading(question, [BRIDGE]).features["relevance"]
    assert with_answer > reader.reading(question, [WEATHER]).features["relevance"]


def test_abstains_when_the_news_does_not_say(reader):
    answer = reader.answer("Who won the chess olympiad?", [WEATHER])
    assert answer.abstained and answer.quote == "" and answer.closest == [WEATHER.story]
    assert answer.score < reader.threshold
    assert reader.answer("Who won?", []).abstained


def test_confidence_grows_with_evidence(reader):
    sure = reader.answer("When did the Harbour Bridge reopen?", [BRIDGE])
    unsure = reader.answer("When did the Harbour Bridge reopen?", [WEATHER])
    assert 0.0 <= unsure.score < sure.score <= 1.0


def test_only_the_configured_number_of_passages_is_read(reader):
    narrow = ExtractiveReader(passages=1, calibration=reader.calibration, network=reader.network)
    assert narrow.reading("When did the Harbour Bridge reopen?", [WEATHER, BRIDGE]).best.hit is WEATHER


def test_a_passage_reads_the_same_whatever_else_is_read_beside_it(reader):
    """Int8 layers scale by their whole input; a long neighbour (and its padding) must not change
    what the network says about a passage."""
    question = "Who cut the ribbon at the bridge?"
    long_neighbour = hit(" ".join(["Figures of 9,870,000 and 12 per cent were quoted at the meeting."] * 12), "Budget")
    alone = reader.reading(question, [BRIDGE]).best
    beside = reader.reading(question, [long_neighbour, BRIDGE, WEATHER]).best
    assert beside.hit is BRIDGE, "the neighbours took the answer"
    assert (beside.start, beside.end) == (alone.start, alone.end)
    assert beside.relevance == pytest.approx(alone.relevance, abs=1e-5)
    assert beside.value == pytest.approx(alone.value, abs=1e-4)


def test_only_the_attention_layers_run_in_int8(reader):
    """Every linear layer in int8 cost 3.5 EM on held-out SQuAD; the feed-forward layers stay
    floating point: bfloat16 where the CPU multiplies it in hardware, float32 elsewhere."""
    import torch

    from index.reader.network import BFloat16Linear, has_bfloat16

    layers = dict(reader.network[0].named_modules())
    assert isinstance(layers["bert.encoder.layer.0.attention.self.query"], torch.ao.nn.quantized.dynamic.Linear)
    assert isinstance(layers["bert.encoder.layer.0.attention.output.dense"], torch.ao.nn.quantized.dynamic.Linear)
    feed_forward = BFloat16Linear if has_bfloat16() else torch.nn.Linear
    for layer in range(6):
        assert type(layers[f"bert.encoder.layer.{layer}.intermediate.dense"]) is feed_forward
        assert type(layers[f"bert.encoder.layer.{layer}.output.dense"]) is feed_forward
    assert type(layers["span"]) is torch.nn.Linear and type(layers["relevance"]) is torch.nn.Linear


def test_the_feed_forward_layers_stay_float32_when_asked():
    """NEWSBOT_READER_BFLOAT16=false: the reading as calibrated before bfloat16 (and on any CPU)."""
    import torch

    reader = ExtractiveReader(bfloat16=False)
    reader.warm_up()
    layers = dict(reader.network[0].named_modules())
    assert type(layers["bert.encoder.layer.5.intermediate.dense"]) is torch.nn.Linear
    assert isinstance(layers["bert.encoder.layer.5.attention.self.key"], torch.ao.nn.quantized.dynamic.Linear)


def test_a_bfloat16_layer_computes_what_the_float_one_does_to_bfloat16s_precision():
    import torch

    from index.reader.network import BFloat16Linear, feed_forward_in_bfloat16

    torch.manual_seed(0)
    linear = torch.nn.Linear(384, 1536)
    hidden = torch.randn(7, 384) * torch.tensor([30.0] + [1.0] * 383)  # an outlier feature, as BERT's have
    with torch.inference_mode():
        exact, rounded = linear(hidden), BFloat16Linear(linear)(hidden)
    assert rounded.dtype == torch.float32 and rounded.shape == exact.shape
    # bfloat16 keeps 8 significant bits: each product is off by at most ~2**-8 of its size.
    bound = 2 * 2**-8 * (hidden.abs() @ linear.weight.abs().T)
    assert bool(((rounded - exact).abs() <= bound + 1e-6).all())
    assert not torch.equal(rounded, exact)  # it did round

    class Block(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.attention = torch.nn.Module()
            self.attention.output = torch.nn.Module()
            self.attention.output.dense = torch.nn.Linear(4, 4)
            self.intermediate = torch.nn.Module()
            self.intermediate.dense = torch.nn.Linear(4, 8)
            self.output = torch.nn.Module()
            self.output.dense = torch.nn.Linear(8, 4)
            self.span = torch.nn.Linear(4, 2)

    block = feed_forward_in_bfloat16(Block())
    assert type(block.intermediate.dense) is BFloat16Linear and type(block.output.dense) is BFloat16Linear
    assert type(block.attention.output.dense) is torch.nn.Linear and type(block.span) is torch.nn.Linear


def scripted_reader(reader, prior: SpanPrior, starts: dict[str, float], ends: dict[str, float]) -> ExtractiveReader:
    """A reader whose network scores spans as told: `starts` and `ends` add to a passage token's start
    or end logit; "no answer" scores 0, every other token -5."""
    import torch

    tokenizer = reader.network[1]

    def net(ids, mask, types):
        start, end = torch.full(ids.shape, -5.0), torch.full(ids.shape, -5.0)
        for row, tokens in enumerate(tokenizer.convert_ids_to_tokens(r) for r in ids.tolist()):
            for i, token in enumerate(tokens):
                if types[row, i] == 1:
                    start[row, i] += starts.get(token, 0.0)
                    end[row, i] += ends.get(token, 0.0)
        start[:, 0] = end[:, 0] = 0.0
        return start, end, torch.zeros(len(ids))

    return ExtractiveReader(calibration=reader.calibration, quantize=False, prior=prior, network=(net, tokenizer))


def test_a_name_beats_a_clause_the_network_scores_a_little_higher(reader):
    """The span-length prior: a network that likes "Anna Smith ... stop" half a point more than
    "Anna Smith" still answers with the name."""
    pier = [hit("Harbour master Anna Smith said the ferry would stop at the pier on Sundays.")]
    for prior, expected in [
        (SpanPrior(), "Anna Smith"),
        (SpanPrior(long_answer=0.0), "Anna Smith said the ferry would stop"),
    ]:
        scripted = scripted_reader(reader, prior, {"anna": 10.0}, {"smith": 10.0, "stop": 10.5})
        assert scripted.reading("Who is the harbour master?", pier).best.text == expected


def test_pooling_adds_up_passages_that_name_the_same_answer():
    a, b, c = (
        hit("Noda lost.", passage_id=1),
        hit("Yoshihiko Noda's party.", passage_id=2),
        hit("Ishiba left.", passage_id=3),
    )
    spans = [Span(a, 0, 4, 2.0, 1.0), Span(b, 10, 14, 2.0, 1.0), Span(c, 0, 6, 2.5, 1.0)]
    reading = pool(spans)
    assert reading.best.text == "Noda"  # two passages at 2.0 beat one at 2.5
    assert reading.features["support"] == 2.0
    assert math.isclose(reading.features["top"], 2.0 + math.log(2))
    assert 0 < reading.features["share"] < 1


def test_trim_drops_punctuation_and_possessive():
    text = 'He said "Yoshihiko Noda\'s" party.'
    start = text.index('"')
    a, b = trim(text, start, text.index(" party"))
    assert text[a:b] == "Yoshihiko Noda"


def test_normalise_and_sentence_around():
    assert normalise("The U.S. Senate’s vote") == normalise("u s senate vote")
    text = "First one. Second has the answer here. Third."
    start = text.index("answer")
    assert sentence_around(text, start, start + 6) == ("Second has the answer here.", 11)


def test_a_quote_never_begins_with_a_datelines_tail():
    text = "Updated 11:42 a.m. ET\n\nThe council approved the budget on Monday. Mr. Okafor voted against it."
    start = text.index("budget")
    quote, offset = sentence_around(text, start, start + 6)
    assert quote == "The council approved the budget on Monday."
    assert text[offset:].startswith("The council")
    start = text.index("Okafor")
    assert sentence_around(text, start, start + 6)[0] == "Mr. Okafor voted against it."
    text = "Polls closed at 8 p.m. on Sunday and Ana Ruiz led."
    start = text.index("Ana")
    assert sentence_around(text, start, start + 8)[0] == text


def test_calibration_is_a_logistic_of_the_features(tmp_path):
    calibration = Calibration(bias=-1.0, weights={"top": 0.5}, threshold=0.4)
    assert math.isclose(calibration.confidence({"top": 2.0}), 0.5)
    assert calibration.confidence({"top": 6.0}) > calibration.confidence({"top": 1.0})
    assert Calibration.load(tmp_path / "missing.json").threshold == Calibration().threshold


def test_bundled_calibration_ships_with_a_threshold(reader):
    """The reader abstains at the threshold reader.json ships (not a default), and the file agrees
    with what it records: fitted for the reader as it ships (passages read, span prior, headline),
    its threshold above the floor of the candidates it offers, stated in the model card, and the
    README's refit command the one asking for its recorded precisions, prior and features."""
    shipped = json.loads(CALIBRATION_FILE.read_text(encoding="utf-8"))
    assert reader.threshold == shipped["threshold"] != Calibration().threshold
    assert reader.calibration.bias == shipped["bias"] and reader.calibration.weights == shipped["weights"]
    assert shipped["passages"] == reader.passages == READ_PASSAGES
    assert shipped["prior"] == asdict(reader.prior) and shipped["headline_chars"] == reader.headline_chars
    assert 0.0 < shipped["candidate_floor"] < shipped["threshold"] < 1.0
    card = (CALIBRATION_FILE.parent / "README.md").read_text(encoding="utf-8")
    assert f"threshold {shipped['threshold']:.3f}" in card
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    refit = next(line for line in readme.splitlines() if line.startswith("python -m training.calibrate "))
    flags = dict(re.findall(r"--([\w-]+) ([^-\s]\S*)", refit.split("#")[0]))
    assert float(flags["precision"]) == shipped["precision_wanted"]
    assert float(flags.get("people-precision", flags["precision"])) == shipped["people_precision_wanted"]
    prior = {name: float(flags.get(name, 0.0)) for name in ("overlap", "echo", "staleness")}
    assert prior == {name: shipped["prior"][name] for name in prior}
    assert ("--bare-names" in refit) == shipped["prior"]["bare_names"]
    assert flags["squash"].split(",") == shipped["squashed"]
    assert int(flags["headline-chars"]) == shipped["headline_chars"]


def test_the_headline_read_before_each_passage_is_the_calibrations(reader, tmp_path):
    """How much of a headline the network reads is fitted with the calibration and shipped with it
    (a file from before the setting read the whole headline); with none read, the headline cannot
    change a reading, with it read it does."""
    old = tmp_path / "old.json"
    old.write_text('{"bias": 0.0, "weights": {"top": 1.0}, "threshold": 0.3}', encoding="utf-8")
    assert Calibration.load(old).headline_chars == Calibration().headline_chars > 0
    assert reader.headline_chars == Calibration.load().headline_chars
    question = "Who opened the new library in Sandvik?"
    text = "Mayor Ingrid Dahl opened the new library in Sandvik on Saturday, after two years of building."
    plain, busy = hit(text, title="Library opens"), hit(text, title="Minister Arne Holt hails Sandvik's library")
    spans = {}
    for chars in (0, 300):
        reading = ExtractiveReader(headline_chars=chars, network=reader.network)
        spans[chars] = [
            [(s.start, s.end, round(s.margin, 3)) for s in reading.propose(question, [h])] for h in (plain, busy)
        ]
    assert spans[0][0] == spans[0][1]  # the headline is not read: the same spans, scored the same
    assert spans[300][0] != spans[300][1]  # read, it changes how the passage is scored


def test_missing_bundled_weights_are_a_clear_error(tmp_path):
    with pytest.raises(NewsbotError, match="cannot load reader model"):
        ExtractiveReader(weights=tmp_path / "none.safetensors").warm_up()


# -- a Hugging Face model through NEWSBOT_READER_MODEL ---------------------------------------------

transformers = pytest.importorskip("transformers")


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    import torch

    folder = tmp_path_factory.mktemp("tiny-qa")
    words = "who did takaichi beat in the vote noda won 237 votes to 149 . ? yoshihiko rain fell".split()
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "|", *words]
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n")
    tokenizer = transformers.BertTokenizerFast(vocab_file=str(folder / "vocab.txt"), do_lower_case=True)
    torch.manual_seed(0)
    config = transformers.BertConfig(
        vocab_size=len(vocab),
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=512,
    )
    transformers.BertForQuestionAnswering(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return str(folder)


def vote() -> list[Hit]:
    return [
        hit("Rain fell. Takaichi beat Yoshihiko Noda 237 votes to 149. Noda won 149.", "Vote", "https://x.test/vote")
    ]


def test_hub_model_returns_a_span_of_the_passage_with_its_sentence(tiny_model):
    answer = ExtractiveReader(tiny_model, threshold=0.0).answer("who did takaichi beat in the vote?", vote())
    assert answer.text and answer.text in vote()[0].text
    assert answer.quote[answer.answer_start : answer.answer_end] == answer.text
    assert answer.quote in vote()[0].text and answer.story.url == "https://x.test/vote"


def test_hub_model_abstains_below_threshold(tiny_model):
    answer = ExtractiveReader(tiny_model, threshold=1.0).answer("who won?", vote())
    assert answer.abstained and answer.closest


def test_unloadable_hub_model_is_a_clear_error(tmp_path):
    with pytest.raises(NewsbotError, match="cannot load reader model"):
        ExtractiveReader(str(tmp_path / "missing")).warm_up()


def test_a_question_as_long_as_the_settings_allow_is_read_not_a_crash(reader):
    """A question of under 1,000 characters (the default max_question_chars) once left the tokenizer
    no room for the passage, and it panicked with an error no `except Exception` catches."""
    preamble = "The wards counted 12, 34, 56 and 78 votes; the 4 recounts gave 9, 8, 7 and 6. " * 11
    question = preamble + "who cut the ribbon at the bridge?"
    assert 850 < len(question) <= 1000
    reading = reader.reading(question, [WEATHER, BRIDGE])
    assert reading.best is not None and reading.best.hit in (WEATHER, BRIDGE)


def test_an_answer_never_runs_across_sentences_and_a_reading_of_only_such_spans_is_empty(reader):

    assert crosses_sentences("Tarsen spaceport on Wednesday. It will map sea ice")
    assert not any(map(crosses_sentences, ["U.S. Senate", "Mr. Smith", "Gen. Milley", "No. 10 Downing Street"]))
    text = "The ship left on Wednesday. It carried grain."
    across = Span(hit(text), text.index("Wednesday"), text.index(" carried"), 0.0, 1.0, margin=2.0)
    assert reader.weigh("When did the ship leave?", [across]).best is None


def test_bare_names_drop_titles_and_common_nouns_before_a_name_only():

    for span, name in [("Mayor Petra Holm", "Petra Holm"), ("the architect Noor Haddad", "Noor Haddad")]:
        assert span[bare_name(span, 0, len(span)) :] == name
    for span in ["two years", "President", "the harbour master"]:
        assert bare_name(span, 0, len(span)) == 0


def test_the_sentence_that_holds_the_question_words_wins_within_a_story(reader):
    """The span prior's overlap: a network that likes the lead's name half a point more still
    answers from the sentence that holds the question's words, and only with the prior on."""
    dam = [hit("Anna Smith spoke at the opening on Monday. The turbines were made by Green Works.", "Dam opens")]
    for prior, expected in [(SpanPrior(), "Anna Smith"), (SpanPrior(overlap=8.0), "Green Works")]:
        scripted = scripted_reader(reader, prior, {"anna": 10.0, "green": 9.5}, {"smith": 10.0, "works": 10.0})
        assert scripted.reading("Who made the turbines?", dam).best.text == expected


def dated(text: str, url: str, published: str) -> Hit:
    return Hit(1, text, Story("News", url, published, "wire"), 1.0, 0)


def test_a_newer_story_counts_against_an_answer_only_when_it_competes_for_it(reader):
    """The staleness prior: an unrelated new story (a volcano) leaves an older answer's value alone;
    a newer story that gives a competing answer lowers it by the weeks between them."""
    prior = SpanPrior(staleness=0.25, stale_weeks=4.0)
    scripted = ExtractiveReader(calibration=reader.calibration, quantize=False, prior=prior)
    vote = dated("Takaichi spoke with Trump.", "https://x.test/vote", "2025-10-01")
    volcano = dated("Mount Serak erupted.", "https://x.test/volcano", "2025-10-29")
    rival = dated("Takaichi spoke with Lee.", "https://x.test/rival", "2025-10-15")
    question = "Who did Takaichi speak with on the phone?"
    trump = Span(vote, 20, 25, 0.0, 2.0, margin=3.0)
    alone = scripted.weigh(question, [trump])
    with_volcano = scripted.weigh(question, [trump, Span(volcano, 0, 11, 0.0, -3.0, margin=-2.0)])
    assert with_volcano.best.text == "Trump" and with_volcano.best.value == alone.best.value
    with_rival = scripted.weigh(question, [trump, Span(rival, 20, 23, 0.0, 1.5, margin=3.0)])
    trump_after = next(c for c in with_rival.candidates if c.text == "Trump")
    assert math.isclose(trump_after.best.value, alone.best.value - 0.25 * 2)  # two weeks older than its rival
    # a question that names a time is never staled
    named = scripted.weigh(
        "Who did Takaichi speak with in October?", [trump, Span(rival, 20, 23, 0.0, 1.5, margin=3.0)]
    )
    assert next(c for c in named.candidates if c.text == "Trump").best.value == alone.best.value


def test_an_abstention_points_first_to_the_stories_the_reader_valued_most():
    """The Louvre story the reader rated highest was left out of "Closest stories" when three other
    stories ranked above it in search."""
    from index.reader.spans import closest_stories

    hits = [hit(f"Story {n} text.", title=f"Story {n}", url=f"https://x.test/{n}", passage_id=n) for n in range(5)]
    louvre = Span(hits[4], 0, 5, 1.5, 1.0)
    pope = Span(hits[1], 0, 5, -2.0, -1.0)
    reading = pool([louvre, pope])
    assert [s.url for s in closest_stories(hits, reading.candidates)] == [
        "https://x.test/4",
        "https://x.test/1",
        "https://x.test/0",
    ]
    assert [s.url for s in closest_stories(hits)] == ["https://x.test/0", "https://x.test/1", "https://x.test/2"]
