"""Plain questions over a small library, as a new user first tries the bot: ten short made-up stories
(written for this test, in our own words), three questions each whose answers the stories state
plainly, and five questions they do not answer. Asked through `Library.ask` at the shipped
threshold: a plain question should be answered, and answered right (exactly the expected short
answer); an unanswered one abstained.

The stories and questions were written before the calibration they check was fitted, and are not
to be edited to suit the reader."""

from __future__ import annotations

import pytest

from index.models import Article
from index.reader.spans import normalise

STORIES = [
    (
        "Alder Street bridge opens in Riverton",
        "2026-03-14",
        "Riverton's new Alder Street bridge opened to traffic on 14 March 2026. The crossing cost 38 million "
        "dollars and took three years to build. Mayor Petra Holm cut the ribbon in front of a crowd of about two "
        "thousand people.",
    ),
    (
        "Kiprono wins the Lakeshore Marathon",
        "2026-04-19",
        "Kenyan runner Amos Kiprono won the Lakeshore Marathon on Sunday in two hours and seven minutes. The race "
        "started and finished in the harbour city of Port Calder. The women's race went to Ethiopia's Selam Tesfaye, "
        "who set a course record.",
    ),
    (
        "Brightwave Energy names a new chief executive",
        "2026-05-05",
        "Brightwave Energy named Lucia Moreno as its chief executive on Tuesday. She replaces Tom Archer, who led "
        "the company for eleven years. Brightwave, which is based in Glasgow, employs 4,200 people.",
    ),
    (
        "Storm Hilda cuts power across Norland",
        "2026-01-23",
        "Storm Hilda brought winds of 140 kilometres per hour to the coast of Norland on Friday. Power was cut to "
        "56,000 homes. The national weather office had issued a red warning for the island of Vesk.",
    ),
    (
        "Marlow Bay elects a new mayor",
        "2026-05-04",
        "Voters in the town of Marlow Bay elected Harriet Chen as mayor on 3 May. She won 61 percent of the vote, "
        "beating the sitting mayor, Oscar Lind. Turnout was 47 percent, the highest in two decades.",
    ),
    (
        "Halvard Museum of Science to reopen with a whale",
        "2026-08-20",
        "The Halvard Museum of Science will reopen on 2 September after a renovation that lasted two years. Its "
        "new wing houses the skeleton of a blue whale. The wing was designed by the architect Noor Haddad.",
    ),
    (
        "Eastford United lift the cup",
        "2026-05-16",
        "Eastford United beat Kingsport Rovers 3-1 in the cup final at Meadow Park on Saturday. Striker Jonas Berg "
        "scored twice for Eastford. It was the club's first cup since 1998.",
    ),
    (
        "Aurora-3 satellite launched",
        "2026-06-10",
        "The Aurora-3 satellite was launched from the Tarsen spaceport on Wednesday. It will map sea ice for the "
        "Nordic Space Agency for seven years. The launch had been delayed twice by high winds.",
    ),
    (
        "Dunmore approves its budget for 2027",
        "2026-11-26",
        "The city council of Dunmore approved a budget of 215 million euros for 2027 on Thursday. The largest "
        "share, 64 million euros, goes to public transport. Councillor Ravi Patel voted against the plan.",
    ),
    (
        "Panda cub born at Linden Zoo",
        "2026-08-12",
        "A panda cub was born at Linden Zoo on 9 August, the first panda born in the country. Keepers named the "
        "cub Mei after a public vote. The cub weighed 150 grams at birth.",
    ),
]

ANSWERED = [
    ("When did the Alder Street bridge open?", "14 March 2026"),
    ("How much did the Alder Street bridge cost?", "38 million dollars"),
    ("Who cut the ribbon at the bridge opening?", "Petra Holm"),
    ("Who won the Lakeshore Marathon?", "Amos Kiprono"),
    ("In which city was the Lakeshore Marathon run?", "Port Calder"),
    ("Who won the women's race at the marathon?", "Selam Tesfaye"),
    ("Who is Brightwave Energy's new chief executive?", "Lucia Moreno"),
    ("Whom does Lucia Moreno replace?", "Tom Archer"),
    ("How many people does Brightwave employ?", "4,200"),
    ("How strong were the winds of Storm Hilda?", "140 kilometres per hour"),
    ("How many homes lost power in the storm?", "56,000"),
    ("Which island was under a red warning?", "Vesk"),
    ("Who was elected mayor of Marlow Bay?", "Harriet Chen"),
    ("Whom did Harriet Chen beat?", "Oscar Lind"),
    ("What share of the vote did Harriet Chen win?", "61 percent"),
    ("When will the Halvard Museum reopen?", "2 September"),
    ("How long did the museum's renovation last?", "two years"),
    ("Who designed the museum's new wing?", "Noor Haddad"),
    ("Who did Eastford United beat in the cup final?", "Kingsport Rovers"),
    ("Where was the cup final played?", "Meadow Park"),
    ("Who scored twice for Eastford United?", "Jonas Berg"),
    ("From which spaceport was Aurora-3 launched?", "Tarsen"),
    ("What will the Aurora-3 satellite map?", "sea ice"),
    ("How long will Aurora-3 work for the Nordic Space Agency?", "seven years"),
    ("How big is Dunmore's budget for 2027?", "215 million euros"),
    ("How much of Dunmore's budget goes to public transport?", "64 million euros"),
    ("Which councillor voted against Dunmore's budget?", "Ravi Patel"),
    ("Where was the panda cub born?", "Linden Zoo"),
    ("What did the keepers name the panda cub?", "Mei"),
    ("How much did the panda cub weigh at birth?", "150 grams"),
]

UNANSWERED = [
    "Who won the chess olympiad?",
    "What is the capital of the new province of Teral?",
    "How much does a ticket to the Halvard Museum cost?",
    "Who is the head of the Nordic Space Agency?",
    "How many people live in Marlow Bay?",
]

# Measured with the reader trained on SQuAD's training set, reading each passage without its headline
# (2026-12-07): the best span is exactly right for 25 of the 30 (22 with the headline read, 25 with the
# reader before that), and 23 are answered right at the threshold (22 with the headline; 19 before).
# The floors leave one or two questions of slack for another CPU's int8 and bfloat16 kernels and catch
# a regression; the README says where issue 32's targets stand.
RIGHT_AT_LEAST = 22
BEST_RIGHT_AT_LEAST = 23
ABSTAINED_AT_LEAST = 4


def exactly(answer: str, expected: str) -> bool:
    """The expected short answer, give or take case, articles and punctuation."""
    return bool(answer) and normalise(answer) == normalise(expected)


@pytest.fixture(scope="module")
def plain_library(embedder, reader, chunker, tmp_path_factory):
    from index import Library, LibraryConfig

    library = Library(
        LibraryConfig(data_dir=tmp_path_factory.mktemp("plain")), embedder=embedder, reader=reader, chunker=chunker
    )
    articles = [
        Article(url=f"https://plain.example/{number}", title=title, text=text, published=published, source="Example")
        for number, (title, published, text) in enumerate(STORIES)
    ]
    library.ingest_articles(articles)
    return library


def test_plain_questions_are_answered_right_at_the_shipped_threshold(plain_library, reader):
    right = best_right = wrong = 0
    report = []
    for question, expected in ANSWERED:
        answer = plain_library.ask(question, as_of="2026-11-30")
        best = reader.reading(question, answer.evidence).best
        best_right += bool(best) and exactly(best.text, expected)
        if exactly(answer.text, expected):
            right += 1
            assert answer.quote[answer.answer_start : answer.answer_end] == answer.text
        elif answer.text:
            wrong += 1
        report.append(f"{question!r}: expected {expected!r}, got {answer.text!r} ({answer.score:.2f})")
    assert right >= RIGHT_AT_LEAST and best_right >= BEST_RIGHT_AT_LEAST, "\n".join(report)
    assert wrong <= 3, "\n".join(report)  # when it speaks, it is right


def test_questions_the_stories_do_not_answer_are_abstained(plain_library):
    answers = [plain_library.ask(question, as_of="2026-11-30") for question in UNANSWERED]
    abstained = sum(answer.abstained for answer in answers)
    report = [f"{a.question!r}: {a.text!r} ({a.score:.2f})" for a in answers]
    assert abstained >= ABSTAINED_AT_LEAST, "\n".join(report)
