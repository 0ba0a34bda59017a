"""spaCy's attribute-ruler exceptions for part of speech, applied as table lookups.

The English pipeline's attribute ruler maps fine-grained tags to parts of speech and fixes a few
dozen exceptions ("that" tagged WDT is a pronoun, "'s" after "there" is a verb) with spaCy's
general token Matcher: about a tenth of the reader's parsing time for what is, token by token, a
lookup. `PosRules` compiles the same patterns into tables keyed by (tag, lower-case text,
dependency, is-space), so each distinct token is matched once, and sets the same parts of speech,
tags and dependencies. Morphology and lemmas, which the reader does not use, are left unset.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

log = logging.getLogger(__name__)

# Matcher keys the tables understand, and the token attribute each reads.
_KEYS = {"TAG": "tag_", "LOWER": "lower_", "DEP": "dep_", "IS_SPACE": "is_space"}
_KEY_ORDER = tuple(_KEYS)
# Attributes the reader relies on (noun chunks read POS and dependencies); the rest are skipped.
_SETS = {"POS": "pos_", "TAG": "tag_", "DEP": "dep_"}


class UnsupportedPattern(ValueError):
    """A ruler pattern outside what the tables can express."""


def _compile_test(value) -> tuple[str, object]:
    if isinstance(value, dict):
        if len(value) != 1:
            raise UnsupportedPattern(f"operator set {sorted(value)}")
        op, operand = next(iter(value.items()))
        if op == "IN":
            return "in", frozenset(operand)
        if op == "NOT_IN":
            return "not_in", frozenset(operand)
        raise UnsupportedPattern(f"operator {op}")
    return "eq", value


def _passes(test: tuple[str, object], value) -> bool:
    op, operand = test
    if op == "eq":
        return value == operand
    if op == "in":
        return value in operand
    return value not in operand


@dataclass(frozen=True)
class _Rule:
    order: int  # later rules win, as in the attribute ruler
    tokens: tuple[tuple[tuple[int, tuple[str, object]], ...], ...]  # per token: (key position, test)
    index: int  # which matched token receives the attributes
    attrs: tuple[tuple[str, str], ...]  # (token attribute, value)

    def matches(self, keys: list[tuple]) -> bool:
        return all(_passes(test, key[pos]) for key, tests in zip(keys, self.tokens, strict=True) for pos, test in tests)


class PosRules:
    """Apply with `rules(doc)` after the tagger and parser have run."""

    def __init__(self, rules: list[_Rule]) -> None:
        self._single = [r for r in rules if len(r.tokens) == 1]
        self._multi = [r for r in rules if len(r.tokens) > 1]
        # A word no rule names stands as None in the key (no test can tell it from another such
        # word), which keeps the memo as small as the rules rather than growing with the vocabulary.
        lower = _KEY_ORDER.index("LOWER")
        self._named_words = frozenset(
            word
            for rule in rules
            for tests in rule.tokens
            for pos, (_, operand) in tests
            if pos == lower
            for word in (operand if isinstance(operand, frozenset) else (operand,))
        )
        self._memo: dict[tuple, dict[str, tuple[int, str]]] = {}

    @classmethod
    def from_ruler(cls, ruler) -> PosRules:
        """Compile an AttributeRuler's patterns; raises UnsupportedPattern for any it cannot mirror."""
        rules = []
        for order, entry in enumerate(ruler.patterns):
            attrs = tuple((_SETS[name], value) for name, value in entry["attrs"].items() if name in _SETS)
            if not attrs:
                continue
            for pattern in entry["patterns"]:
                tokens = []
                for token in pattern:
                    unknown = set(token) - set(_KEYS)
                    if unknown:
                        raise UnsupportedPattern(f"token keys {sorted(unknown)}")
                    tokens.append(tuple((_KEY_ORDER.index(k), _compile_test(v)) for k, v in token.items()))
                index = entry.get("index", 0)
                rules.append(_Rule(order, tuple(tokens), index if index >= 0 else len(tokens) + index, attrs))
        return cls(rules)

    def _assignments(self, key: tuple) -> dict[str, tuple[int, str]]:
        found = self._memo.get(key)
        if found is None:
            found = {}
            for rule in self._single:
                if rule.matches([key]):
                    for attr, value in rule.attrs:
                        found[attr] = (rule.order, value)
            self._memo[key] = found
        return found

    def __call__(self, doc):
        named = self._named_words
        keys = [(t.tag_, t.lower_ if t.lower_ in named else None, t.dep_, t.is_space) for t in doc]
        plans = [dict(self._assignments(key)) for key in keys]
        for rule in self._multi:
            width = len(rule.tokens)
            for start in range(len(keys) - width + 1):
                if rule.matches(keys[start : start + width]):
                    plan = plans[start + rule.index]
                    for attr, value in rule.attrs:
                        if attr not in plan or plan[attr][0] <= rule.order:
                            plan[attr] = (rule.order, value)
        for token, plan in zip(doc, plans, strict=True):
            for attr, (_, value) in plan.items():
                if getattr(token, attr) != value:
                    setattr(token, attr, value)
        return doc
