"""The reader's training labels: passages cut like the product's, and answer tokens that really
spell the answer (a wrong label here would teach the network nonsense without any error)."""

from __future__ import annotations

import math
import random

import pytest
import torch

from index.reader.network import build_net
from training.reader_data import featurise, news_examples, passages_of
from training.reader_steps import listwise_loss, question_groups


@pytest.fixture(scope="module")
def tokenizer():
    return build_net()[1]


def test_passages_are_whole_sentences_of_one_paragraph():
    text = "First sentence here. Second one follows.\nA new paragraph starts right here. " + "Word " * 90 + "ends."
    passages = passages_of(text, max_words=80)
    assert passages[0] == "First sentence here. Second one follows."
    assert passages[1] == "A new paragraph starts right here."
    assert all(len(p.split()) <= 92 for p in passages)


VOTE = "The count ended. Yoshihiko Noda lost to Sanae Takaichi."


def test_answer_labels_spell_the_answer(tokenizer):
    examples = [
        {
            "question": "Who won?",
            "title": "Vote",
            "text": VOTE,
            "start": VOTE.index("Sanae"),
            "answer": "Sanae Takaichi",
        },
        {"question": "Who won?", "title": "Weather", "text": "Rain fell all day."},
    ]
    positive, negative = featurise(tokenizer, examples, max_length=64, stride=16)
    tokens = tokenizer.convert_ids_to_tokens(positive["ids"][positive["start"] : positive["end"] + 1])
    assert tokenizer.convert_tokens_to_string(tokens) == "sanae takaichi"
    assert (negative["start"], negative["end"]) == (0, 0)
    assert positive["context"][0] > positive["ids"].index(tokenizer.sep_token_id)  # after the question


def test_a_window_that_cuts_the_answer_off_is_a_negative(tokenizer):
    text = " ".join(f"word{i}" for i in range(120)) + " The winner was Noda."
    example = {"question": "Who won?", "title": "", "text": text, "start": text.index("Noda"), "answer": "Noda"}
    windows = featurise(tokenizer, [example], max_length=48, stride=8)
    assert len(windows) > 1
    assert windows[0]["start"] == 0 and windows[-1]["start"] > 0


def test_news_examples_take_passages_with_the_gold_answer_as_positives():
    question = {"question": "Which city hosted the summit?", "answers": ["Kuala Lumpur"]}
    passages = [
        ("Summit", "The summit opened in Kuala Lumpur on Sunday."),
        ("Summit", "Leaders arrived for the summit talks."),
        ("Sport", "The match ended in a draw."),
    ]
    examples = news_examples([(question, passages)], random.Random(0))
    positives = [e for e in examples if "start" in e]
    assert [e["answer"] for e in positives] == ["Kuala Lumpur"]
    assert positives[0]["text"][positives[0]["start"] :].startswith("Kuala Lumpur")
    assert all("Kuala Lumpur" not in e["text"] for e in examples if "start" not in e)


def test_week_negatives_come_from_the_weeks_other_stories_and_never_hold_the_answer():
    summit = {"question": "Which city hosted the summit?", "answers": ["Kuala Lumpur"], "week": "20251031"}
    other = {"question": "Who won the match?", "answers": ["Rovers"], "week": "20251031"}
    own = [("Summit", "The summit opened in Kuala Lumpur on Sunday.")]
    week_stories = [
        ("Trade", "Ministers left the summit city after trade talks."),  # shares words with the question
        ("Travel", "Flights to Kuala Lumpur were full before the summit."),  # holds the answer: never a negative
        ("Sport", "Rovers won the match in the last minute."),
    ]
    items = [(summit, own), (other, week_stories)]
    plain = news_examples(items, random.Random(0))
    widened = news_examples(items, random.Random(0), week_negatives=1)
    added = [e for e in widened if e not in plain]
    assert [(e["question"], e["text"]) for e in added] == [
        ("Which city hosted the summit?", "Ministers left the summit city after trade talks.")
    ]
    assert all("start" not in e for e in added)


def test_a_question_group_holds_its_own_windows_with_and_without_the_answer():
    features = [
        {"group": "q1", "start": 5},
        {"group": "q1", "start": 0},
        {"group": None, "start": 3},  # SQuAD: no news question, never in a group
        {"group": "q2", "start": 0},  # no window with the answer: nothing to rank
        {"group": "q1", "start": 0},
        {"group": "q3", "start": 4},  # only the answer: nothing to rank it against
    ]
    assert question_groups(features) == [[0, 1, 4]]
    assert question_groups(features, most=2) == [[0, 1]]


def test_the_listwise_loss_rewards_ranking_the_answer_first_within_each_question():
    features = [{"group": "q1", "start": 5}, {"group": "q1", "start": 0}, {"group": "q1", "start": 0}]
    indices = [0, 1, 2]
    assert float(listwise_loss(torch.zeros(3), features, indices)) == pytest.approx(math.log(3))
    first = float(listwise_loss(torch.tensor([2.0, 0.0, 0.0]), features, indices))
    last = float(listwise_loss(torch.tensor([0.0, 2.0, 0.0]), features, indices))
    assert first < math.log(3) < last
    # Two questions in one batch are ranked apart: raising q2's scores leaves q1's term alone.
    both = features + [{"group": "q2", "start": 1}, {"group": "q2", "start": 0}]
    scores = torch.tensor([2.0, 0.0, 0.0, 0.0, 0.0])
    expected = (first + math.log(2)) / 2
    assert float(listwise_loss(scores, both, [0, 1, 2, 3, 4])) == pytest.approx(expected)
    shifted = scores + torch.tensor([0.0, 0.0, 0.0, 9.0, 9.0])
    assert float(listwise_loss(shifted, both, [0, 1, 2, 3, 4])) == pytest.approx(expected)


def test_an_answer_that_occurs_twice_is_labelled_where_the_questions_words_are():
    from training.reader_data import answer_start

    context = (
        "In 1990 the museum opened its west wing to visitors. Many years of building followed. "
        + "Filler words keep the two sentences apart. " * 6
        + "The east wing, designed by Ines Roth, opened in 1990 as well, after a fire."
    )
    east = context.index("1990", context.index("east wing"))
    assert answer_start(context, "1990", "When did the east wing designed by Ines Roth open?") == east
    assert answer_start(context, "1990", "When did the museum open its west wing?") == context.index("1990")
    assert answer_start(context, "1871", "When?") == -1


def test_squad_parts_never_share_a_title_and_report_is_the_odd_dev_titles():
    from training.reader_data import DATA, squad_split

    if not (DATA / "squad" / "squad-train.jsonl.gz").exists():
        pytest.skip("SQuAD is not in ../shared/data/squad/")
    parts = squad_split()
    titles = {name: {e["title"] for e in part} for name, part in parts.items()}
    assert not titles["train"] & titles["report"] and not titles["train"] & titles["calibration"]
    assert not titles["report"] & titles["calibration"] and len(titles["report"]) == 24
    for example in parts["train"][:2000]:
        if example["answers"]:
            assert example["text"][example["start"] :].startswith(example["answer"])


def test_titles_can_be_dropped_from_a_share_of_the_examples_as_the_product_reads():
    from training.reader_data import without_titles

    examples = [{"question": f"q{i}", "title": f"Headline {i}", "text": f"passage {i}"} for i in range(400)]
    none = without_titles(examples, 0.0, random.Random(1))
    assert none == examples
    every = without_titles(examples, 1.0, random.Random(1))
    assert all(e["title"] == "" for e in every)
    assert [(e["question"], e["text"]) for e in every] == [(e["question"], e["text"]) for e in examples]
    half = without_titles(examples, 0.5, random.Random(1))
    assert 150 < sum(e["title"] == "" for e in half) < 250
    assert half == without_titles(examples, 0.5, random.Random(1))  # the same seed drops the same ones
    assert all(e["title"] == f"Headline {i}" for i, e in enumerate(examples))  # the originals are untouched
    with pytest.raises(ValueError, match="between 0 and 1"):
        without_titles(examples, 1.5, random.Random(1))


def test_news_qa_sentences_are_detokenised_with_their_answers_in_place():
    from training.news_qa import Corpus, Question, _joined, detokenise, document_of

    tokens = "`` We won , '' said Ana -LRB- the mayor -RRB- , who got 55 % of the vote .".split()
    text, offsets = detokenise(tokens)
    assert text == "\u201cWe won,\u201d said Ana (the mayor), who got 55% of the vote."
    assert [text[a:b] for a, b in offsets[5:7]] == ["said", "Ana"]
    assert text[offsets[8][0] : offsets[9][1]] == "the mayor"
    assert document_of("Wiki1k:wikinews:749788:8:0") == ("749788", 8, 0)
    assert document_of("Wiki1k:wikipedia:16016:90:8") is None

    corpus = Corpus()
    corpus.sentences["Wiki1k:wikinews:1:0:0"] = "The vote was held on Sunday .".split()
    corpus.sentences["Wiki1k:wikinews:1:0:1"] = tokens
    corpus.questions.append(Question("Wiki1k:wikinews:1:0:1", "Who is the mayor?", (6, 7), "qamr"))
    passage = _joined(corpus, "1", 0, ["Wiki1k:wikinews:1:0:0", "Wiki1k:wikinews:1:0:1"])
    base = passage.where["Wiki1k:wikinews:1:0:1"]
    _, second = detokenise(tokens)
    assert passage.text[base + second[6][0] : base + second[6][1]] == "Ana"
    assert passage.text.startswith("The vote was held on Sunday. \u201cWe won")


def test_both_trainers_draw_the_same_mix_from_the_same_flags():
    """training.reader and training.packed's pack parse the same mix flags and draw the same examples:
    every quiz positive kept, a share of its negatives, a seeded SQuAD sample; an unknown news QA set
    is refused by name."""
    import argparse

    from training.mix import add_mix_arguments, mixed

    parser = argparse.ArgumentParser()
    add_mix_arguments(parser)
    args = parser.parse_args(["--quiz-negatives", "0.25", "--squad-sample", "5"])
    squad = [{"question": f"q{i}", "start": 0} for i in range(20)]
    quiz = [{"question": f"p{i}", "start": 3} for i in range(10)] + [{"question": f"n{i}"} for i in range(400)]
    first = mixed(squad, quiz, args, seed=13)
    assert first == mixed(squad, quiz, args, seed=13)
    kept_squad, kept_quiz, people = first
    assert len(kept_squad) == 5 and people == []
    assert sum("start" in e for e in kept_quiz) == 10  # every positive
    assert 60 < sum("start" not in e for e in kept_quiz) < 140  # about a quarter of 400 negatives
    wrong = parser.parse_args(["--news-qa", "10", "--news-qa-sources", "qamr,tweets"])
    with pytest.raises(SystemExit, match="no set tweets"):
        mixed(squad, quiz, wrong, seed=13)
    with pytest.raises(SystemExit, match="share from 0 to 1"):
        mixed(squad, quiz, parser.parse_args(["--quiz-negatives", "2"]), seed=13)
