"""Fuzzing the OpenQASM 2 loader: any text loads, or raises an ``InputError`` naming file, line and column.

Three sources of input: valid programs with a few edits (deleted, repeated or inserted spans), soups of
OpenQASM tokens, and random text. Never another exception, never a warning, never a hang: inputs are
at most a few thousand characters, and the loader's own limits (registers, operations after expansion,
expression depth) bound the work each may cause; pytest-timeout stops a run that hangs anyway.
The examples are derandomized (the same every run, whatever ``--hypothesis-seed``), so CI is reproducible.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import qvec
from qvec.circuit import parse_qasm, to_qasm
from qvec.errors import InputError

from fuzzing import FUZZ, edited_programs, outcomes, token_soups, tokens

pytestmark = [pytest.mark.timeout(240), pytest.mark.filterwarnings("error")]

LOCATED = re.compile(r"^fuzz\.qasm:\d+:\d+: \S")

HEADER = 'OPENQASM 2.0;\ninclude "qelib1.inc";\n'
CORPUS = [
    HEADER + "qreg q[2];\ncreg c[2];\nh q[0];\ncx q[0],q[1];\nmeasure q -> c;\n",
    HEADER + "qreg q[3];\ncreg c[3];\ngate g(t) a,b { rx(t/2) a; cx a,b; u3(t,pi/2,-t) b; }\nh q;\n"
             "g(0.3) q[0],q[1];\ncu3(1,2,3) q[1],q[2];\nbarrier q;\nmeasure q -> c;\n",
    HEADER + "qreg a[2]; qreg b[2];\ncx a, b;\nrzz(sin(pi/3)^2) a[0], b[1];\nc3x a[0],a[1],b[0],b[1];\n"
             "/* a block\ncomment */ u2(-0.5e-1, ln(2)) b[0]; // a line comment\n",
    "OPENQASM 2.0;\nqreg q[2];\ngate inner(x) a { U(x, 0, -x) a; }\ngate outer(y) a { inner(y*2) a; inner(-(y)) a; }\n"
    "outer(exp(1)/sqrt(2)) q[0];\nCX q[0], q[1];\n",
    # Each definition calls the one before twice: g8 is 256 operations, and edits can multiply them.
    HEADER + "qreg q[2];\ngate g0 a, b { cx a, b; }\n"
    + "".join(f"gate g{i} a, b {{ g{i - 1} a, b; g{i - 1} b, a; }}\n" for i in range(1, 9)) + "g8 q[0], q[1];\n",
    to_qasm(qvec.Circuit(3).sx(0).swap(0, 1).iswap(1, 2).crx(0, 1, 0.2).ryy(1, 2, -0.4).cswap(0, 1, 2).u(2, 1, 2, 3),
            measure=True),
]
VOCABULARY = [
    "OPENQASM", "2.0", "3.0", "include", '"qelib1.inc"', '"other.inc"', "qreg", "creg", "gate", "measure", "barrier",
    "reset", "if", "opaque", "qubit", "U", "CX", "h", "x", "cx", "rx", "u3", "cu3", "c3x", "c4x", "id", "q", "a", "c",
    "[", "]", "(", ")", "{", "}", ";", ",", "->", "==", "+", "-", "*", "/", "^", "pi", "sin", "ln", "sqrt", "exp",
    "0", "1", "2", "1024", "1000000000", "9" * 4400, "1e308", "1e-400", ".5", "2e", "//", "/*", "*/", "\n", "\t", "$",
]
TOKENS = tokens(VOCABULARY)
PROGRAMS = edited_programs(CORPUS, TOKENS)



def check_loads_or_locates(text: str) -> None:
    """The property: a circuit that writes and reads back as itself, or one located line of error."""
    try:
        circuit = parse_qasm(text, "fuzz.qasm")
    except InputError as error:
        message = str(error)
        assert LOCATED.match(message) and "\n" not in message, message
    else:
        assert parse_qasm(to_qasm(circuit), "written.qasm") == circuit


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
    """The strategies are worth running: the corpus loads, and edits give both circuits and located errors."""
    for program in CORPUS:
        check_loads_or_locates(program)
        assert isinstance(parse_qasm(program, "fuzz.qasm"), qvec.Circuit)
    assert outcomes(lambda text: parse_qasm(text, "fuzz.qasm"), PROGRAMS) == {"loaded", "error"}
