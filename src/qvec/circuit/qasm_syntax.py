"""OpenQASM 2 syntax: tokens, a cursor over them, and angle expressions evaluated without ``eval``.

Every error is a one-line ``InputError`` of the form ``FILE:LINE:COLUMN: message at 'TOKEN'``.
Expressions nest at most ``MAX_EXPRESSION_DEPTH`` deep, so that neither parsing nor evaluating one
can exhaust Python's stack; a block comment left open is an error, not a scan of the rest of the file
at each ``/*``.
"""

from __future__ import annotations

import math
import operator
import re
from dataclasses import dataclass
from typing import Callable, Collection, Mapping

from qvec.errors import InputError

__all__ = ["Token", "TokenStream", "Expression", "MAX_EXPRESSION_DEPTH", "tokenize", "located_error",
           "parse_expression"]

_TOKEN = re.compile(
    r"""(?P<space>[ \t\r\f\v]+)
    |(?P<newline>\n)
    |(?P<comment>//[^\n]*|/\*.*?(?:\*/|\Z))
    |(?P<real>(?:\d+\.\d*|\.\d+)(?:[eE][-+]?\d+)?|\d+[eE][-+]?\d+)
    |(?P<integer>\d+)
    |(?P<string>"[^"\n]*")
    |(?P<identifier>[A-Za-z_][A-Za-z0-9_]*)
    |(?P<symbol>->|==|[;,()\[\]{}+\-*/^])""",
    re.VERBOSE | re.DOTALL,
)

# An angle expression: evaluated later against the values of a gate's parameters.
Expression = Callable[[Mapping[str, float]], float]

_FUNCTIONS: dict[str, Callable[[float], float]] = {
    "sin": math.sin, "cos": math.cos, "tan": math.tan, "exp": math.exp, "ln": math.log, "sqrt": math.sqrt,
}
_ADDITIVE = {"+": operator.add, "-": operator.sub}
_MULTIPLICATIVE = {"*": operator.mul, "/": operator.truediv}
# Parentheses, function calls, signs and powers nested deeper than this are refused while parsing: each
# level costs the recursive-descent parser about 7 Python frames, and Python stops at 1000.
MAX_EXPRESSION_DEPTH = 64
# A token longer than this is cut short where an error message shows it.
_SHOWN_TOKEN_LENGTH = 40


@dataclass(frozen=True)
class Token:
    """One token: ``kind`` is a group name of the token pattern, or ``end`` at the end of the file."""

    kind: str
    text: str
    line: int
    column: int

    def describe(self) -> str:
        if self.kind == "end":
            return "end of file"
        if len(self.text) > _SHOWN_TOKEN_LENGTH:
            return repr(self.text[:_SHOWN_TOKEN_LENGTH]) + "..."
        return repr(self.text)


def tokenize(text: str, filename: str) -> list[Token]:
    """Split QASM source into tokens, dropping whitespace and comments; ends with an ``end`` token."""
    tokens: list[Token] = []
    line, line_start, position = 1, 0, 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            bad = Token("unknown", text[position], line, position - line_start + 1)
            raise located_error(filename, bad, "unexpected character")
        kind = match.lastgroup or ""
        if kind == "comment" and match.group().startswith("/*") and not match.group().endswith("*/"):
            start = Token(kind, "/*", line, position - line_start + 1)
            raise located_error(filename, start, "block comment is never closed")
        if kind not in ("space", "newline", "comment"):
            tokens.append(Token(kind, match.group(), line, position - line_start + 1))
        newlines = match.group().count("\n")
        if newlines:
            line += newlines
            line_start = position + match.group().rindex("\n") + 1
        position = match.end()
    tokens.append(Token("end", "", line, position - line_start + 1))
    return tokens


def located_error(filename: str, token: Token, message: str) -> InputError:
    """An ``InputError`` naming the file, line, column and token."""
    return InputError(f"{filename}:{token.line}:{token.column}: {message} at {token.describe()}")


class TokenStream:
    """A cursor over the tokens of one file, with helpers that raise located errors."""

    def __init__(self, text: str, filename: str) -> None:
        self.filename = filename
        self._tokens = tokenize(text, filename)
        self._position = 0

    def peek(self) -> Token:
        return self._tokens[self._position]

    def next(self) -> Token:
        token = self._tokens[self._position]
        self._position += token.kind != "end"
        return token

    def accept(self, text: str) -> Token | None:
        """Consume the next token if it is the symbol or keyword ``text``."""
        token = self.peek()
        if token.text == text and token.kind in ("symbol", "identifier"):
            return self.next()
        return None

    def expect(self, text: str) -> Token:
        token = self.accept(text)
        if token is None:
            raise self.error(f"expected {text!r}")
        return token

    def expect_kind(self, kind: str, what: str) -> Token:
        if self.peek().kind != kind:
            raise self.error(f"expected {what}")
        return self.next()

    @property
    def position(self) -> int:
        """The index of the next token."""
        return self._position

    def source(self, start: int) -> str:
        """The tokens from index ``start`` up to the cursor as QASM text again (comments and layout dropped)."""
        texts = [token.text for token in self._tokens[start:self._position]]
        glued = (not previous or text in (",", ";", "(", ")", "[", "]") or previous in ("(", "[")
                 for previous, text in zip(["", *texts], texts))
        return "".join(text if tight else " " + text for text, tight in zip(texts, glued))

    def error(self, message: str, token: Token | None = None) -> InputError:
        return located_error(self.filename, token or self.peek(), message)


def parse_expression(stream: TokenStream, parameters: Collection[str]) -> Expression:
    """Parse an angle expression whose free names must be in ``parameters``; checks its value when run."""
    start = stream.peek()
    expression = _ExpressionParser(stream, parameters).sum()

    def evaluate(values: Mapping[str, float]) -> float:
        try:
            value = expression(values)
        except (ArithmeticError, ValueError) as exc:
            raise stream.error(f"cannot evaluate angle expression ({exc})", start) from None
        if not math.isfinite(value):
            raise stream.error(f"angle expression evaluates to {value}; angles must be finite", start)
        return value

    return evaluate


class _ExpressionParser:
    """Recursive descent: sum > product > unary minus > power (right-associative) > atom.

    Every nested level (parentheses, a function's argument, a sign, a power's exponent) passes through
    ``unary``, which counts the depth and refuses more than ``MAX_EXPRESSION_DEPTH``.
    """

    def __init__(self, stream: TokenStream, parameters: Collection[str]) -> None:
        self.stream = stream
        self.parameters = parameters
        self.depth = 0

    def sum(self) -> Expression:
        return self._binary(self.product, _ADDITIVE)

    def product(self) -> Expression:
        return self._binary(self.unary, _MULTIPLICATIVE)

    def _binary(self, operand: Callable[[], Expression], operators: dict) -> Expression:
        """A left-associative chain, folded in a loop: ``1+1+...+1`` nests no deeper than ``1``."""
        first = operand()
        rest: list[tuple[Callable[[float, float], float], Expression]] = []
        while self.stream.peek().kind == "symbol" and self.stream.peek().text in operators:
            apply = operators[self.stream.next().text]
            rest.append((apply, operand()))
        if not rest:
            return first

        def fold(values: Mapping[str, float]) -> float:
            result = first(values)
            for apply, right in rest:
                result = apply(result, right(values))
            return result

        return fold

    def unary(self) -> Expression:
        if self.depth == MAX_EXPRESSION_DEPTH:
            raise self.stream.error(f"angle expression nested more than {MAX_EXPRESSION_DEPTH} deep")
        self.depth += 1
        try:
            return self._signed()
        finally:
            self.depth -= 1

    def _signed(self) -> Expression:
        if self.stream.accept("-"):
            inner = self.unary()
            return lambda values: -inner(values)
        if self.stream.accept("+"):
            return self.unary()
        return self.power()

    def power(self) -> Expression:
        base = self.atom()
        if self.stream.accept("^"):
            exponent = self.unary()
            return lambda values: math.pow(base(values), exponent(values))
        return base

    def atom(self) -> Expression:
        token = self.stream.next()
        if token.kind in ("real", "integer"):
            number = float(token.text)
            return lambda values: number
        if token.text == "(":
            inner = self.sum()
            self.stream.expect(")")
            return inner
        if token.kind != "identifier":
            raise self.stream.error("expected a number, a name or '('", token)
        return self._name(token)

    def _name(self, token: Token) -> Expression:
        if token.text == "pi":
            return lambda values: math.pi
        if token.text in _FUNCTIONS:
            function = _FUNCTIONS[token.text]
            self.stream.expect("(")
            argument = self.sum()
            self.stream.expect(")")
            return lambda values: function(argument(values))
        if token.text not in self.parameters:
            raise self.stream.error("unknown name in angle expression", token)
        name = token.text
        return lambda values: values[name]
