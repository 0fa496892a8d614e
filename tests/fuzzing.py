"""Hypothesis strategies shared by the loaders' fuzz tests: edited valid programs, token soups, outcomes."""

from __future__ import annotations

import re
from typing import Callable, Sequence

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qvec.errors import InputError

# Derandomized (the same examples every run, whatever --hypothesis-seed), no deadline: CI is reproducible.
FUZZ = settings(deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
MAX_LENGTH = 6000
# Numbers at and past the loaders' limits, and past what Python converts (4300 digits) or a float holds.
EXTREME_NUMBERS = (st.sampled_from(["0", "1", "60", "61", "1024", "1025", "1000000000", "9" * 4400, "1e400"])
                   | st.integers(0, 2**70).map(str))


def tokens(vocabulary: Sequence[str]) -> st.SearchStrategy[str]:
    """A word of the language, an identifier, or a number."""
    return st.sampled_from(list(vocabulary)) | st.from_regex(r"\A[A-Za-z_][A-Za-z0-9_]{0,6}\Z") | st.integers(0, 10**6).map(str)


@st.composite
def edited_programs(draw: st.DrawFn, corpus: Sequence[str], words: st.SearchStrategy[str]) -> str:
    """A valid program with one to four edits: a span deleted, repeated or wrapped in parentheses, a token or a
    character inserted, or a number replaced by an extreme one (a size, an index, a mode, a cutoff)."""
    text = draw(st.sampled_from(list(corpus)))
    for _ in range(draw(st.integers(1, 4))):
        start = draw(st.integers(0, len(text)))
        end = draw(st.integers(start, min(len(text), start + 40)))
        edit = draw(st.sampled_from(["delete", "repeat", "nest", "token", "character", "number"]))
        if edit == "delete":
            text = text[:start] + text[end:]
        elif edit == "repeat":
            text = text[:start] + text[start:end] * draw(st.integers(2, 50)) + text[end:]
        elif edit == "nest":
            depth = draw(st.integers(1, 300))
            text = text[:start] + "(" * depth + text[start:end] + ")" * depth + text[end:]
        elif edit == "number":
            numbers = list(re.finditer(r"\d+", text))
            if numbers:
                number = draw(st.sampled_from(numbers))
                text = text[:number.start()] + draw(EXTREME_NUMBERS) + text[number.end():]
        else:
            inserted = draw(words) if edit == "token" else draw(st.characters())
            text = text[:start] + inserted + text[start:]
    return text[:MAX_LENGTH]


def token_soups(words: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """Up to 120 tokens joined by spaces, nothing or newlines."""
    return st.tuples(st.lists(words, max_size=120), st.sampled_from([" ", "", "\n"])).map(
        lambda parts: parts[1].join(parts[0]))


def outcomes(parse: Callable[[str], object], programs: st.SearchStrategy[str], examples: int = 300) -> set[str]:
    """Which of "loaded" and "error" ``parse`` gives over ``examples`` drawn programs."""
    seen: set[str] = set()

    @settings(FUZZ, max_examples=examples)
    @given(text=programs)
    def classify(text: str) -> None:
        try:
            parse(text)
            seen.add("loaded")
        except InputError:
            seen.add("error")

    classify()
    return seen
