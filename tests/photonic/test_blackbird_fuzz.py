"""Fuzzing the Blackbird loader: any text loads, or raises an ``InputError`` naming file and line.

Three sources of input: valid programs with a few edits (deleted, repeated or inserted spans), soups of
Blackbird tokens and lines, and random text. Never another exception, never a warning, never a hang:
inputs are at most a few thousand characters, and the loader's own limits (integer size, expression
length, modes, cutoff) bound the work each may cause; pytest-timeout stops a run that hangs anyway.
The examples are derandomized (the same every run, whatever ``--hypothesis-seed``), so CI is reproducible.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import qvec.photonic as photonic
from qvec.errors import InputError
from qvec.photonic import BlackbirdProgram, parse_blackbird
from qvec.photonic.blackbird import MAX_MODES

from fuzzing import FUZZ, edited_programs, outcomes, token_soups, tokens

pytestmark = [pytest.mark.timeout(240), pytest.mark.filterwarnings("error")]

LOCATED = re.compile(r"^fuzz\.xbb:\d+: \S")

CORPUS = [path.read_text() for path in sorted((Path(photonic.__file__).parent / "examples").glob("*.xbb"))] + [
    "name x\nversion 1.0\ntarget fock (num_subsystems=2, cutoff_dim=6)\nint n = +2\nfloat x = 2.0*cos(pi/3)**2\n"
    "complex z = 0.3+0.4j\ncomplex array U =\n  1, 0\n  0, 1\nFock(n) | 0\nDgate(z) | 1\nXgate(x) | 1\n"
    "BSgate(theta=pi/4) | [0, 1]\nInterferometer(U) | [0, 1]\nMeasureFock() | q\n",
    "name y\nversion 1.0\nwith fock(num_subsystems=3, cutoff_dim=4):\n    Squeezed(0.1, p=0.2) | q[0]\n"
    "    Thermal(0.5) | 1\n    S2gate(0.1) | (1, 2)\n    Kgate({kappa}) | 2  # a free parameter\n"
    "    LossChannel(0.9) | 0\n    MeasureHomodyne(phi=0) | 0\n",
]
VOCABULARY = [
    "name", "version", "target", "type", "fock", "gaussian", "with", ":", "(", ")", "[", "]", "{", "}", "|", ",", "=",
    "+", "-", "*", "/", "**", "%", "pi", "sin", "log", "sqrt", "abs", "int", "float", "complex", "str", "bool",
    "array", "num_subsystems", "cutoff_dim", "Dgate", "Sgate", "BSgate", "Fock", "Thermal", "Interferometer",
    "MeasureFock", "LossChannel", "q", "q[0]", "0", "1", "2", str(MAX_MODES), "1e400", "1j", "9**9**9", '"x"', "True",
    "#", "\n", "\n    ", "x", "U", "{alpha}", "1e308", "9" * 4400, "lambda", "__import__",
]
TOKENS = tokens(VOCABULARY)
PROGRAMS = edited_programs(CORPUS, TOKENS)



def check_loads_or_locates(text: str) -> None:
    """The property: a program within the loader's limits, or one located line of error."""
    try:
        program = parse_blackbird(text, "fuzz.xbb")
    except InputError as error:
        message = str(error)
        assert LOCATED.match(message) and "\n" not in message, message
    else:
        assert isinstance(program, BlackbirdProgram) and 1 <= program.circuit.n_modes <= MAX_MODES


@settings(FUZZ, max_examples=2000)
@given(text=PROGRAMS)
def test_edited_programs_load_or_raise_a_located_error(text: str) -> None:
    check_loads_or_locates(text)


@settings(FUZZ, max_examples=1500)
@given(text=token_soups(TOKENS))
def test_token_soups_load_or_raise_a_located_error(text: str) -> None:
    check_loads_or_locates(text)


@settings(FUZZ, max_examples=1000)
@given(text=st.text(max_size=500))
def test_random_text_loads_or_raises_a_located_error(text: str) -> None:
    check_loads_or_locates(text)


def test_the_edits_reach_every_kind_of_outcome() -> None:
    """The strategies are worth running: the corpus loads, and edits give both programs and located errors."""
    for program in CORPUS:
        assert isinstance(parse_blackbird(program, "fuzz.xbb"), BlackbirdProgram)
    assert outcomes(lambda text: parse_blackbird(text, "fuzz.xbb"), PROGRAMS) == {"loaded", "error"}
