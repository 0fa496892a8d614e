"""Blackbird expressions: literals, variables and arithmetic, evaluated on Python's syntax tree without ``eval``.

Each step is checked as it is computed: integer results are capped at ``MAX_INTEGER_BITS`` bits (a power is
checked before it runs: ``9**9**9**9`` would take hours), floats must stay finite, and expressions longer than
``MAX_EXPRESSION_LENGTH`` characters are refused before Python's parser sees them. Every error is an
``InputError`` from the caller's ``error(line, message)``, so that it names the file and line.
"""

from __future__ import annotations

import ast
import cmath
import re
import warnings
from typing import Any, Callable

import numpy as np

from qvec.errors import InputError

__all__ = ["ExpressionEvaluator", "MAX_INTEGER_BITS", "MAX_EXPRESSION_LENGTH", "shown"]

_FUNCTIONS: dict[str, Callable[[Any], Any]] = {
    "sin": np.sin, "cos": np.cos, "tan": np.tan, "exp": np.exp, "sqrt": np.sqrt, "log": np.log,
    "arcsin": np.arcsin, "arccos": np.arccos, "arctan": np.arctan, "abs": np.abs,
}
_BINARY = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b, ast.Mult: lambda a, b: a * b,
           ast.Div: lambda a, b: a / b, ast.Pow: lambda a, b: a**b}
# Python integers never overflow, so ``9**9**8`` would run for hours: integer results are capped
# at this many bits (far past any cutoff, photon number or mode count) and checked before a power.
MAX_INTEGER_BITS = 1024
# Longer expressions are refused before Python's parser (and the evaluator's recursion) sees them.
MAX_EXPRESSION_LENGTH = 10_000
_FREE = re.compile(r"^\{([A-Za-z_]\w*)\}$")


class ExpressionEvaluator:
    """Evaluates the expressions of one program against its ``variables`` (which the program's declarations fill)."""

    def __init__(self, variables: dict[str, Any], error: Callable[[int, str], InputError]) -> None:
        self.variables = variables
        self.error = error

    def evaluate(self, line: int, text: str) -> Any:
        """A literal, variable or arithmetic expression; a bare ``{name}`` is a free parameter."""
        text = text.strip()
        if free := _FREE.match(text):
            return free.group(1)
        if "{" in text:
            raise self.error(line, f"free parameters must appear alone, not inside an expression: {shown(text)!r}")
        cut = shown(text)
        if len(text) > MAX_EXPRESSION_LENGTH:
            raise self.error(line, f"expression {cut!r} is longer than {MAX_EXPRESSION_LENGTH} characters")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", SyntaxWarning)  # e.g. '1if': refused below, never printed
                tree = ast.parse(text, mode="eval")
            return self._value(line, tree.body)
        except (SyntaxError, ValueError) as exc:
            if isinstance(exc, InputError):
                raise
            raise self.error(line, f"cannot parse expression {cut!r}") from None
        except (RecursionError, MemoryError):
            raise self.error(line, f"expression {cut!r} is nested too deeply") from None

    def _value(self, line: int, node: ast.AST) -> Any:
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float, complex, str, bool)):
            if isinstance(node.value, (float, complex)) and not cmath.isfinite(node.value):
                raise self.error(line, "a number is past the largest float (about 1.8e308); values must be finite")
            return node.value
        if isinstance(node, ast.Name):
            if node.id not in self.variables:
                raise self.error(line, f"unknown variable {node.id!r} (measurement results cannot feed gates)")
            return self.variables[node.id]
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.UAdd, ast.USub)):
            value = self._number(line, node, self._value(line, node.operand))
            return -value if isinstance(node.op, ast.USub) else value
        if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            left = self._number(line, node, self._value(line, node.left))
            right = self._number(line, node, self._value(line, node.right))
            if isinstance(node.op, ast.Pow):
                self._check_power(line, node, left, right)
            return self._computed(line, node, lambda: _BINARY[type(node.op)](left, right))
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _FUNCTIONS
                and len(node.args) == 1 and not node.keywords):
            argument = self._number(line, node, self._value(line, node.args[0]))
            return self._computed(line, node, lambda: _FUNCTIONS[node.func.id](argument))
        raise self.error(line, f"unsupported expression {_source(node)!r}")

    def _number(self, line: int, node: ast.AST, value: Any) -> Any:
        """``value`` if arithmetic may use it (a number or a numeric array), else an error naming the expression."""
        if isinstance(value, (str, bool)) or not isinstance(value, (int, float, complex, np.number, np.ndarray)):
            raise self.error(line, f"arithmetic needs numbers, got {shown(repr(value))} in {_source(node)!r}")
        return value

    def _check_power(self, line: int, node: ast.AST, base: Any, exponent: Any) -> None:
        """Refuse an integer power whose result would exceed ``MAX_INTEGER_BITS``, before computing it."""
        if isinstance(base, (int, np.integer)) and isinstance(exponent, (int, np.integer)) and exponent > 0:
            bits = abs(int(base)).bit_length()
            if bits > 1 and (bits - 1) * int(exponent) > MAX_INTEGER_BITS:
                raise self.error(line, f"{_source(node)!r} is too large: integer results are limited to "
                                       f"{MAX_INTEGER_BITS} bits")

    def _computed(self, line: int, node: ast.AST, compute: Callable[[], Any]) -> Any:
        """The value of one arithmetic step, or an error naming the expression: never inf, NaN or a huge integer."""
        try:
            with np.errstate(all="raise"):
                value = compute()
        except OverflowError:
            raise self.error(line, f"{_source(node)!r} overflows a float") from None
        except (ArithmeticError, ValueError, TypeError) as exc:
            raise self.error(line, f"cannot evaluate {_source(node)!r} ({exc})") from None
        if isinstance(value, (int, np.integer)):
            if abs(int(value)).bit_length() > MAX_INTEGER_BITS:
                raise self.error(line, f"{_source(node)!r} is too large: integer results are limited to "
                                       f"{MAX_INTEGER_BITS} bits")
        elif not bool(np.all(np.isfinite(value))):
            raise self.error(line, f"{_source(node)!r} evaluates to {value}; values must be finite")
        return value


def _source(node: ast.AST) -> str:
    """An expression's source for an error message, cut short."""
    return shown(ast.unparse(node))


def shown(text: str) -> str:
    """``text`` cut to 60 characters for an error message."""
    return text if len(text) <= 60 else f"{text[:57]}..."
