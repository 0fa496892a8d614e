"""The QASM tokenizer and angle expressions (parsed by recursive descent, never eval'd)."""

from __future__ import annotations

import math

import pytest

from qvec.circuit.qasm_syntax import MAX_EXPRESSION_DEPTH, TokenStream, parse_expression, tokenize
from qvec.errors import InputError


def kinds_and_texts(text: str) -> list[tuple[str, str]]:
    return [(t.kind, t.text) for t in tokenize(text, "f.qasm")]


def test_tokens_with_comments_and_positions() -> None:
    tokens = tokenize('OPENQASM 2.0; // header\n/* a\nblock */ qreg q[12];\nmeasure q->c;', "f.qasm")
    assert [(t.kind, t.text) for t in tokens[:3]] == [("identifier", "OPENQASM"), ("real", "2.0"), ("symbol", ";")]
    qreg = tokens[3]
    assert (qreg.text, qreg.line, qreg.column) == ("qreg", 3, 10)
    assert ("integer", "12") in kinds_and_texts("q[12]")
    assert ("symbol", "->") in [(t.kind, t.text) for t in tokens]
    assert tokens[-1].kind == "end" and tokens[-1].line == 4


@pytest.mark.parametrize("text", ["1.5", ".5", "1.", "2e3", "1.5E-3"])
def test_real_numbers(text: str) -> None:
    assert kinds_and_texts(text)[0] == ("real", text)


def test_unexpected_character_names_line_and_column() -> None:
    with pytest.raises(InputError, match=r"^f.qasm:2:3: unexpected character at '\$'$"):
        tokenize("h q;\nh $q;", "f.qasm")


def evaluate(text: str, **values: float) -> float:
    stream = TokenStream(text, "f.qasm")
    expression = parse_expression(stream, values.keys())
    assert stream.peek().kind == "end", "the whole text is one expression"
    return expression(values)


@pytest.mark.parametrize("text, value", [
    ("pi", math.pi), ("-pi/2", -math.pi / 2), ("1+2*3", 7.0), ("(1+2)*3", 9.0), ("2^3^2", 512.0),
    ("-2^2", -4.0), ("2^-1", 0.5), ("8/4/2", 1.0), ("1-2-3", -4.0), ("--1", 1.0), ("+3", 3.0),
    ("sin(pi/2)", 1.0), ("cos(0)", 1.0), ("tan(pi/4)", math.tan(math.pi / 4)), ("exp(1)", math.e),
    ("ln(exp(2))", 2.0), ("sqrt(16)", 4.0), ("1.5e1", 15.0), ("2*pi^2", 2 * math.pi**2),
])
def test_expressions(text: str, value: float) -> None:
    assert evaluate(text) == pytest.approx(value, rel=1e-15)


def test_parameters_are_looked_up_when_evaluated() -> None:
    assert evaluate("theta/2 + lam", theta=1.0, lam=0.25) == 0.75


@pytest.mark.parametrize("text, message", [
    ("1/0", r"^f.qasm:1:1: cannot evaluate angle expression \(float division by zero\) at '1'$"),
    ("ln(0)", r"^f.qasm:1:1: cannot evaluate angle expression .* at 'ln'$"),
    ("sqrt(-1)", "cannot evaluate angle expression"),
    ("(-8)^(1/3)", "cannot evaluate angle expression"),
    ("10^400", "cannot evaluate angle expression"),
    ("1e308*10", r"angle expression evaluates to inf; angles must be finite at '1e308'"),
])
def test_evaluation_errors_are_located(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        evaluate(text)


@pytest.mark.parametrize("text, message", [
    ("theta", r"^f.qasm:1:1: unknown name in angle expression at 'theta'$"),
    ("1 +", r"^f.qasm:1:4: expected a number, a name or '\(' at end of file$"),
    ("(1", r"expected '\)' at end of file"),
    ("sin 1", r"f.qasm:1:5: expected '\(' at '1'"),
    ("eval(1)", r"unknown name in angle expression at 'eval'"),
    ("__import__", r"unknown name in angle expression at '__import__'"),
])
def test_syntax_errors_are_located(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        evaluate(text)


def nested(depth: int) -> str:
    """``depth`` levels of parentheses around 1: each level passes through the parser's ``unary`` once more."""
    return "(" * (depth - 1) + "1" + ")" * (depth - 1)


def test_nesting_up_to_the_limit_evaluates() -> None:
    assert evaluate(nested(MAX_EXPRESSION_DEPTH)) == 1.0
    assert evaluate("-" * (MAX_EXPRESSION_DEPTH - 1) + "1") == (-1.0) ** (MAX_EXPRESSION_DEPTH - 1)


@pytest.mark.parametrize("text, column", [
    (nested(150), MAX_EXPRESSION_DEPTH + 1),                 # 150 parentheses were a RecursionError
    ("-" * 5000 + "1", MAX_EXPRESSION_DEPTH + 1),
    ("2^" * 5000 + "1", 2 * MAX_EXPRESSION_DEPTH + 1),
    ("sin(" * 500 + "1" + ")" * 500, 4 * MAX_EXPRESSION_DEPTH + 1),
])
def test_nesting_past_the_limit_is_a_located_error_not_a_recursion_error(text: str, column: int) -> None:
    with pytest.raises(InputError, match=rf"^f.qasm:1:{column}: angle expression nested more than "
                                         rf"{MAX_EXPRESSION_DEPTH} deep at "):
        evaluate(text)


def test_a_long_flat_sum_is_evaluated_without_nesting() -> None:
    # Each '+' used to wrap the sum so far in one more closure: 5000 terms overflowed the stack when evaluated.
    assert evaluate("+".join(["1"] * 5000)) == 5000.0
    assert evaluate("-".join(["1"] * 5000)) == 1.0 - 4999  # left-associative: ((1-1)-1)-...


def test_an_unclosed_block_comment_is_a_located_error() -> None:
    with pytest.raises(InputError, match=r"^f.qasm:2:6: block comment is never closed at '/\*'$"):
        tokenize("h q;\nh q; /* h q;\n h q;", "f.qasm")


def test_an_error_shows_a_long_token_cut_short() -> None:
    with pytest.raises(InputError, match=r"^f.qasm:1:1: unknown name in angle expression at '(a){40}'\.\.\.$"):
        evaluate("a" * 100_000)
