"""The reader's parts on small inputs written for the tests."""

import pytest

from index.models import Hit, Story
from index.questions import question_type
from index.reader import (
    DEFAULT_WEIGHTS,
    CandidateReader,
    calibrated_confidence,
    confidence_features,
    normalise,
    stem,
)


@pytest.mark.parametrize(
    ("question", "kind", "label"),
    [
        ("Who did Takaichi beat in the vote?", "who", "PERSON"),
        ("Which airline cancelled the most flights?", "which organisation", "ORG"),
        ("Where did the summit take place?", "where", "GPE"),
        ("Which country hosted the games?", "where", "GPE"),
        ("When did the strike end?", "when", "DATE"),
        ("What year was the law passed?", "when", "DATE"),
        ("How many people were rescued?", "how many", "CARDINAL"),
        ("How much did the painting sell for?", "how many", "MONEY"),
        ("What is the new policy about?", "other", None),
        ("Which US state raises the most turkeys?", "where", "GPE"),
        ("Maia Sandu was re-elected president of which European country?", "where", "GPE"),
        ("Which US government agency cut interest rates?", "which organisation", "ORG"),
        ("What did the city council decide?", "other", None),
        ("Which Thanksgiving dish was invented in the 1950s?", "other", "NP"),
        ("Ukraine may use which US-supplied missiles?", "other", "PRODUCT"),
        ("Where did Delaware rank overall in the study?", "other", "ORDINAL"),
        ("What is the estimated cost of the new bridge?", "how many", "MONEY"),
        ("Insulin makers will sell their products at what price?", "how many", "MONEY"),
        ("What is the name of the company that bought the paper?", "which organisation", "ORG"),
        ("What kind of dog won best in show?", "other", "NP"),
        ("Which tech giant overtook Apple?", "which organisation", "ORG"),
        ("Which school won the national championship?", "which organisation", "ORG"),
    ],
)
def test_question_types(question, kind, label):
    found = question_type(question)
    assert found.name == kind
    if label:
        assert found.fit(label) == 1.0


def test_teams_and_colleges_may_go_by_their_place():
    assert question_type("Which school won the national championship?").fit("GPE") == 0.5
    assert question_type("Which company won the contract?").fit("GPE") == 0.0


def test_state_and_country_questions_want_a_listed_place(hand_reader):
    hits = [
        hit(
            "Flood alerts covered nearly all of California, the Bay Area worst of all, the U.S. weather "
            "service said, while Vanuatu counted damage from a quake."
        )
    ]
    state = {c.key: c.features for c in hand_reader.candidates("Which state issued flood alerts?", hits)}
    assert state["california"]["listed_place"] == 1.0 and state["california"]["unlisted_place"] == 0.0
    assert state["bay area"]["unlisted_place"] == 1.0 and state["u s"]["unlisted_place"] == 1.0
    country = {c.key: c.features for c in hand_reader.candidates("Which Pacific nation was hit by a quake?", hits)}
    assert country["vanuatu"]["listed_place"] == 1.0 and country["vanuatu"]["type_fit"] == 1.0
    assert country["california"]["unlisted_place"] == 1.0
    other = hand_reader.candidates("What did the weather service say?", hits)
    assert all(c.features["listed_place"] == c.features["unlisted_place"] == 0.0 for c in other)


def test_number_and_date_questions_keep_only_numbers_and_dates(hand_reader):
    hits = [hit("The Coast Guard rescued 40 people off Miami on Tuesday after a French ferry sank.")]
    how_many = {c.key for c in hand_reader.candidates("How many people were rescued?", hits)}
    assert "40" in how_many and not how_many & {"coast guard", "miami", "french", "ferry", "tuesday"}
    when = {c.key for c in hand_reader.candidates("When did the ferry sink?", hits)}
    assert when == {"tuesday"}
    who = {c.key for c in hand_reader.candidates("Who rescued the passengers?", hits)}
    assert {"coast guard", "miami"} <= who  # other questions keep every kind of candidate


def test_stem_and_normalise():
    assert stem("lasted") == stem("last") == "last"
    assert stem("votes") == stem("vote") == stem("voted") and stem("is") == "is"
    assert normalise("The Los Angeles Dodgers'") == "los angeles dodgers"


def hit(text: str, rank: int = 0, url: str = "https://x.test/1") -> Hit:
    return Hit(
        passage_id=1000 + rank + hash(url) % 997,
        text=text,
        story=Story("T", url, None, "S"),
        score=1.0,
        rank=rank,
        dense_score=0.5,
    )


@pytest.fixture
def hand_reader(reader):
    """The hand-set linear model, so these tests check the mechanics, not the shipped weights."""
    return CandidateReader(threshold=0.0, weights=DEFAULT_WEIGHTS, annotator=reader.annotator)


def test_candidates_fit_type_and_skip_question_words(hand_reader):
    reader = hand_reader
    hits = [hit("Mayor Ana Lopez defeated challenger Tom Briggs in Sunday's election in Springfield.")]
    candidates = {c.key: c for c in reader.candidates("Who did Ana Lopez defeat in the election?", hits)}
    assert candidates["tom briggs"].features["type_fit"] == 1.0
    assert candidates["tom briggs"].features["in_question"] == 0.0
    assert "ana lopez" not in candidates  # named in full in the question: not its answer
    assert candidates["tom briggs"].features["linked"] > candidates["springfield"].features["linked"]
    answer = reader.read("Who did Ana Lopez defeat in the election?", hits)
    assert answer.text == "Tom Briggs"
    assert answer.quote[answer.answer_start : answer.answer_end] == "Tom Briggs"


def test_redundancy_across_stories_counts(hand_reader):
    reader = hand_reader
    hits = [
        hit("Officials said the bridge reopened on Monday after repairs.", 0, "https://a.test/1"),
        hit("The bridge reopened Monday, the transport agency said.", 1, "https://b.test/2"),
        hit("Traffic returned to normal by Friday.", 2, "https://c.test/3"),
    ]
    candidates = {c.key: c for c in reader.candidates("When did the bridge reopen?", hits)}
    assert candidates["monday"].features["stories"] > candidates["friday"].features["stories"]
    assert reader.read("When did the bridge reopen?", hits).text == "Monday"


def test_abstains_when_nothing_fits(reader):
    strict = CandidateReader(threshold=0.99, annotator=reader.annotator)
    answer = strict.read("Who won?", [hit("It rained a lot.")])
    assert answer.abstained and answer.closest and answer.quote == ""
    assert strict.read("Who won?", []).abstained


def test_hedged_amounts_lose_the_hedge(hand_reader):
    hits = [hit("Around 33,000 machinists walked off the job, and more than $2 billion in orders stalled.")]
    texts = {m.text for c in hand_reader.candidates("How many machinists went on strike?", hits) for m in c.mentions}
    assert "33,000" in texts and "Around 33,000" not in texts
    assert not any(t.lower().startswith("more than") for t in texts)


def test_headline_offers_candidates_once_per_story(hand_reader):
    story = Story("Hurricane Milo forces evacuations along the coast", "https://a.test/milo", None, "S")
    passages = ["Thousands left their homes on Tuesday.", "Shelters opened in three counties."]
    hits = [Hit(i, text, story, 1.0, i, 0.5) for i, text in enumerate(passages)]
    candidates = {c.key: c for c in hand_reader.candidates("Which storm forced evacuations?", hits)}
    milo = candidates["hurricane milo"]
    assert len(milo.mentions) == 1 and milo.best.sentence == story.title
    answer = hand_reader.read("Which storm forced evacuations?", hits)
    assert answer.quote[answer.answer_start : answer.answer_end] == answer.text


def test_quoted_titles_are_candidates_and_fit_title_questions(hand_reader):
    hits = [hit("Critics praised 'Wicked' as fans queued; Trump's aides and Biden's staff watched “Gladiator II” too.")]
    candidates = {c.key: c for c in hand_reader.candidates("Which film topped the box office?", hits)}
    assert {"wicked", "gladiator ii"} <= set(candidates)
    assert candidates["wicked"].mentions[0].label == "QUOTED"
    assert candidates["wicked"].features["type_fit"] == 1.0  # "which film" wants a title
    assert not any("aides" in key and "biden" in key for key in candidates)  # apostrophes are not quotes
    mention = candidates["wicked"].best
    assert mention.sentence[mention.start : mention.start + len(mention.text)] == "Wicked"


def test_two_entities_joined_by_and_form_one_candidate(hand_reader):
    hits = [hit("Two of Japan's biggest automakers, Honda and Nissan, have begun merger talks. Nissan shares rose.")]
    candidates = {c.key: c for c in hand_reader.candidates("Which two automakers are discussing a merger?", hits)}
    assert "honda and nissan" in candidates
    assert "nissan" in candidates  # the single name is not folded into the pair


def test_confidence_weighs_rivals_and_the_best_candidates_support():
    floor = DEFAULT_WEIGHTS["bias"]
    features = confidence_features([2.0, -1.0], floor, {"type_fit": 1.0, "sentence_overlap": 0.5})
    assert features["margin"] == pytest.approx(3.0)
    assert features["best_type_fit"] == 1.0 and features["best_proximity"] == 0.0
    # A lone weak candidate is no clear winner: the no-evidence floor counts as a rival.
    assert confidence_features([floor + 0.1], floor)["margin"] == pytest.approx(0.1)
    weights = {"bias": -3.0, "margin": 0.5, "share": 1.0, "best_type_fit": 2.0}
    fits = calibrated_confidence([2.0, -1.0], weights, floor, {"type_fit": 1.0})
    clashes = calibrated_confidence([2.0, -1.0], weights, floor, {"type_fit": 0.0})
    assert 0.0 < clashes < fits < 1.0
    assert calibrated_confidence([], weights, floor) == 0.0


def test_ordinals_answer_only_rank_questions(hand_reader):
    hits = [hit("Leo XIV is the first American pope. The university placed third in the 2024 ranking.")]
    asked_pope = {c.key for c in hand_reader.candidates("Who was chosen as the first American pope?", hits)}
    assert "first" not in asked_pope and "third" not in asked_pope
    asked_rank = {c.key for c in hand_reader.candidates("What ranking did the university achieve?", hits)}
    assert "third" in asked_rank


def test_answers_name_the_candidate_in_full_without_possessive(hand_reader):
    hits = [
        hit("Adrien Brody won the award for his role in The Brutalist.", 0, "https://a.test/1"),
        hit("Brody won best actor at the Oscars on Sunday.", 1, "https://b.test/2"),
        hit("Critics had tipped Netflix's film, and Taylor Swift's fans cheered.", 2, "https://c.test/3"),
    ]
    question = "Who won best actor at the Oscars?"
    answer = hand_reader.read(question, hits)
    assert answer.text == "Adrien Brody"
    assert answer.quote[answer.answer_start : answer.answer_end] == "Adrien Brody"
    texts = {m.text for c in hand_reader.candidates(question, hits) for m in c.mentions}
    assert "Brody" in texts  # folded into the full name, which is what the answer says
    assert not any(t.endswith("'s") for t in texts)
