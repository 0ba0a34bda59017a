"""What kind of answer a question wants: a person, an organisation, a place, a date, a number..."""

from __future__ import annotations

import re
from dataclasses import dataclass

from index.places import COUNTRIES, US_STATES

PERSON = frozenset({"PERSON"})
ORGANISATION = frozenset({"ORG"})
PLACE = frozenset({"GPE", "LOC", "FAC"})
DATE = frozenset({"DATE", "TIME"})
NUMBER = frozenset({"CARDINAL", "QUANTITY", "MONEY", "PERCENT"})
MONEY = frozenset({"MONEY"})
PERCENT = frozenset({"PERCENT"})
GROUP = frozenset({"NORP"})
# "QUOTED" is the reader's label for a phrase in quotation marks, the way news names titles.
EVENT = frozenset({"EVENT", "WORK_OF_ART", "LAW", "PRODUCT", "QUOTED"})
THING = EVENT | {"NP"}
RANK = frozenset({"ORDINAL"})


@dataclass(frozen=True)
class QuestionType:
    """`name` is the answer category used in reports; `labels` are the spaCy entity labels that fit
    it best and `also` those that fit it sometimes (a "who" can be an organisation)."""

    name: str
    labels: frozenset[str] = frozenset()
    also: frozenset[str] = frozenset()
    # Set where the answer is one of a known list of places ("which state", "which country").
    places: frozenset[str] = frozenset()
    # Set where only a candidate of a fitting label can be the answer: spaCy tags numbers and dates
    # reliably, and in 2024's training questions 33 of 34 right answers to "how many" and "when"
    # were of a fitting label, against 1,760 of 13,160 wrong candidates.
    strict: bool = False

    def fit(self, label: str) -> float:
        if label in self.labels:
            return 1.0
        if label in self.also:
            return 0.5
        return 0.0


OTHER = QuestionType("other")

_ORG_NOUNS = (
    "company|companies|organization|organisation|team|airline|agency|group|party|network|brand|retailer|"
    "bank|university|college|school|club|firm|corporation|automaker|carrier|department|union|league|"
    "publication|newspaper|outlet|studio|startup|chain|restaurant|store|manufacturer|maker|court|committee|"
    "company's|institution|federation|association|broadcaster|platform|app|service|museum|magazine|network|"
    "agency|organisation|charity|government|administration|brand|label|airline|giant|carmaker|insurer|"
    "supermarket|conglomerate|lender|exchange|operator|provider"
)
_MONEY_NOUNS = "price|cost|fee|salary|budget|fine"
# Colleges and teams go by their place ("Michigan won the title"), which spaCy tags as one.
_TEAM_NOUNS = "team|teams|school|university|college|club|side|franchise"
_PLACE_NOUNS = (
    "country|countries|city|state|nation|region|county|town|island|continent|capital|province|place|"
    "location|area|venue|airport|neighborhood|neighbourhood|village"
)
_PERSON_NOUNS = (
    "person|man|woman|politician|actor|actress|singer|player|president|leader|senator|governor|ceo|star|"
    "athlete|candidate|official|judge|author|rapper|musician|director|coach|founder|executive|lawmaker|"
    "minister|celebrity|artist|comedian|journalist|host|billionaire|quarterback|pitcher|driver|golfer|"
    "justice|mayor|chief|representative|member|individual|suspect|victim|king|queen|prince|princess|pope"
)

# Up to two words between "which" and the noun ("which US state", "which European country",
# "which pharmacy chain"), but not a verb or article ("what did the city ..." asks no place).
_AUXILIARIES = "did|does|do|is|was|are|were|has|have|had|will|would|can|could|should"
_MODIFIERS = rf"(?:(?!(?:{_AUXILIARIES}|the|a|an)\b)[a-z-]+ ){{0,2}}"

_RULES: list[tuple[re.Pattern[str], QuestionType]] = [
    # The only questions an ordinal ("first", "20th") answers; the reader drops ordinals elsewhere.
    (
        re.compile(r"\b(what|which) (rank|ranking|position)\b|\b(where|how) did .* (rank|finish)\b"),
        QuestionType("other", RANK),
    ),
    (
        re.compile(r"\bhow much\b.*\b(cost|pay|paid|worth|spend|spent|raise[ds]?|fine[ds]?|price|dollars?|\$)"),
        QuestionType("how many", MONEY, NUMBER, strict=True),
    ),
    (
        re.compile(
            rf"\b(what|which) {_MODIFIERS}({_MONEY_NOUNS})\b"
            rf"|\bwhat (is|was|are|were|will be) the {_MODIFIERS}({_MONEY_NOUNS}|value|funding|amount)\b"
        ),
        QuestionType("how many", MONEY, NUMBER, strict=True),
    ),
    (re.compile(r"\b(how many|how much|what number|what amount)\b"), QuestionType("how many", NUMBER, strict=True)),
    (
        re.compile(r"\bwhat (percent|percentage|share|proportion|fraction)\b"),
        QuestionType("how many", PERCENT, NUMBER, strict=True),
    ),
    (re.compile(r"\b(how old|what age)\b"), QuestionType("how many", frozenset({"DATE", "CARDINAL"}), strict=True)),
    (re.compile(r"\b(how long)\b"), QuestionType("when", DATE, NUMBER, strict=True)),
    (
        re.compile(r"^(when|until when|since when)\b|\b(what|which) (year|date|day|month|time|decade|season)\b"),
        QuestionType("when", DATE, strict=True),
    ),
    (
        re.compile(rf"\b(which|what) {_MODIFIERS}(u\.?s\.? )?(state|states)\b"),
        QuestionType("where", PLACE, GROUP, US_STATES),
    ),
    (
        re.compile(rf"\b(which|what) {_MODIFIERS}(country|countries|nation|nations)\b"),
        QuestionType("where", PLACE, GROUP, COUNTRIES),
    ),
    (
        re.compile(rf"\b(which|what) {_MODIFIERS}({_PLACE_NOUNS})\b|^where\b|\bwhere\b"),
        QuestionType("where", PLACE, GROUP),
    ),
    (
        re.compile(rf"\b(which|what) {_MODIFIERS}({_TEAM_NOUNS})\b"),
        QuestionType("which organisation", ORGANISATION, PLACE),
    ),
    (re.compile(rf"\b(which|what) {_MODIFIERS}({_ORG_NOUNS})\b"), QuestionType("which organisation", ORGANISATION)),
    (
        re.compile(rf"^(who|whom|whose)\b|\b(who|whom)\b|\b(which|what) {_MODIFIERS}({_PERSON_NOUNS})\b"),
        QuestionType("who", PERSON, ORGANISATION | GROUP),
    ),
    (re.compile(r"\b(which|what) (nationality|religion|ethnic)"), QuestionType("other", GROUP)),
    (
        re.compile(r"\b(which|what) (event|law|bill|act|film|movie|book|song|album|show|series|product|game)\b"),
        QuestionType("other", EVENT, ORGANISATION),
    ),
    # "Which Thanksgiving dish", "what new technology", "which objects": a thing, named by a noun
    # phrase or a title far more often than by a date, a number or a place.
    (
        re.compile(rf"\b(which|what) (?!({_AUXILIARIES}|kind|type|sort)\b)[a-z-]+"),
        QuestionType("other", THING, ORGANISATION | PERSON | GROUP),
    ),
]


# "What is the name of the storm", "what kind of dog": the noun after them is the one asked about.
_NAME_OF = re.compile(
    r"\bwhat (?:(?:is|was|are|were) the (?:[a-z]+ )?names? of|(?:kind|type|sort)s? of) (?:the |a |an |this |that )?"
)


def question_type(question: str) -> QuestionType:
    """The expected answer type of `question`, from its wh-word and the noun after it."""
    text = _NAME_OF.sub("which ", " ".join(question.lower().split()))
    for pattern, kind in _RULES:
        if pattern.search(text):
            return kind
    return OTHER
