"""Blackbird (``.xbb``), Strawberry Fields' program format, loaded into a photonic Circuit.

Supported: the ``name``/``version``/``target``/``type`` header (``cutoff_dim`` in the target
options becomes the program's cutoff), typed variables and arrays, expressions with
``+ - * / **``, ``pi`` and ``sin cos tan exp sqrt log``, free parameters ``{name}`` (they
become circuit parameter names), the state preparations, gates and loss channel that the Fock
simulator has, and measurements at the end of a mode's program (recorded, not simulated: the
Fock probabilities are their distribution). Anything else is an ``InputError`` naming the line.

Work is bounded before it is done: integer results to ``MAX_INTEGER_BITS`` bits (checked before a power),
expressions to ``MAX_EXPRESSION_LENGTH`` characters, and modes (``num_subsystems`` or the highest mode used)
to ``MAX_MODES``, past which no Fock state can even be addressed.
"""

from __future__ import annotations

import cmath
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from qvec.errors import InputError

from .blackbird_expressions import MAX_EXPRESSION_LENGTH, MAX_INTEGER_BITS, ExpressionEvaluator, shown
from .circuit import Circuit
from .operations import SPECS
from .simulate import MAX_ADDRESSABLE_BITS

__all__ = ["BlackbirdProgram", "load_blackbird", "parse_blackbird", "MAX_MODES", "MAX_CUTOFF",
           "MAX_INTEGER_BITS", "MAX_EXPRESSION_LENGTH"]

# A state of n modes holds at least 2**n amplitudes (cutoff 2), and the simulator addresses at most 2**60;
# a cutoff_dim past 2**60 cannot hold a single mode's state either.
MAX_MODES = MAX_ADDRESSABLE_BITS
MAX_CUTOFF = 2**MAX_ADDRESSABLE_BITS
# No two unbounded repeats of the same characters sit side by side (``\s*(?:...)?\s*``): a line of many spaces
# would make the matcher try every way to split them between the two, quadratic in the line's length.
_HEADER = re.compile(r"^(name|version|target|type)\s+([^\s(]+)(?:\s*\((.*)\))?\s*$")
_DECLARATION = re.compile(r"^(int|float|complex|str|bool)\s+(array\s+)?([A-Za-z_]\w*)(?:\s*(\[[\d,\s]*\]))?\s*=\s*(.*)$")
_WITH = re.compile(r"^with\s+([\w.]+)(?:\s*\((.*)\))?\s*:\s*$")
_STATEMENT = re.compile(r"^([A-Za-z]\w*)(?:\s*\((.*)\))?\s*\|\s*(.+)$")
_KEYWORD = re.compile(r"^([A-Za-z_]\w*)\s*=(?!=)\s*(.+)$")

_REQUIRED = object()
# Blackbird operation -> (circuit method, SF parameter names with defaults, whether r may be complex)
_OPERATIONS: dict[str, tuple[str, tuple[tuple[str, Any], ...], bool]] = {
    "Vacuum": ("vacuum", (), False),
    "Vac": ("vacuum", (), False),
    "Coherent": ("coherent", (("r", 0.0), ("phi", 0.0)), True),
    "Squeezed": ("squeezed", (("r", 0.0), ("p", 0.0)), True),
    "DisplacedSqueezed": ("displaced_squeezed", (("r_d", 0.0), ("phi_d", 0.0), ("r_s", 0.0), ("phi_s", 0.0)), True),
    "Fock": ("fock", (("n", _REQUIRED),), False),
    "Thermal": ("thermal", (("n", _REQUIRED),), False),
    "Dgate": ("d", (("r", _REQUIRED), ("phi", 0.0)), True),
    "Sgate": ("s", (("r", _REQUIRED), ("phi", 0.0)), True),
    "Rgate": ("r", (("theta", _REQUIRED),), False),
    "Kgate": ("k", (("kappa", _REQUIRED),), False),
    "BSgate": ("bs", (("theta", math.pi / 4), ("phi", 0.0)), False),
    "MZgate": ("mz", (("phi_in", _REQUIRED), ("phi_ex", _REQUIRED)), False),
    "S2gate": ("s2", (("r", _REQUIRED), ("phi", 0.0)), False),
    "CKgate": ("ck", (("kappa", _REQUIRED),), False),
    "LossChannel": ("loss", (("T", _REQUIRED),), False),
    "Interferometer": ("interferometer", (("U", _REQUIRED),), False),
    "Xgate": ("xgate", (("x", _REQUIRED),), False),
    "Zgate": ("zgate", (("p", _REQUIRED),), False),
    "Fouriergate": ("fourier", (), False),
    "Fourier": ("fourier", (), False),
}


@dataclass
class BlackbirdProgram:
    """A loaded program: the circuit, the cutoff its target asks for (if any), and its metadata."""

    circuit: Circuit
    cutoff: int | None = None
    name: str | None = None
    version: str | None = None
    target: str | None = None
    target_options: dict[str, Any] = field(default_factory=dict)
    measurements: list[tuple[str, tuple[int, ...]]] = field(default_factory=list)


@dataclass
class _Statement:
    operation: str
    args: list[Any]
    kwargs: dict[str, Any]
    modes: tuple[int, ...] | None  # None: every mode (``| q``)
    line: int


class _Parser:
    """One pass over the lines; ``error`` names the file and line of whatever it rejects."""

    def __init__(self, text: str, source: str) -> None:
        self.lines = text.splitlines()
        self.source = source
        self.variables: dict[str, Any] = {"pi": math.pi, "True": True, "False": False}
        self.header: dict[str, Any] = {}
        self.options: dict[str, Any] = {}
        self.option_lines: dict[str, int] = {}
        self.statements: list[_Statement] = []
        self.evaluate = ExpressionEvaluator(self.variables, self.error).evaluate

    def error(self, line: int, message: str) -> InputError:
        return InputError(f"{self.source}:{line}: {message}")

    def parse(self) -> None:
        index = 0
        while index < len(self.lines):
            text = _strip_comment(self.lines[index]).strip()
            index += 1
            if not text:
                continue
            if match := _HEADER.match(text):
                self._header(index, *match.groups())
            elif match := _DECLARATION.match(text):
                index = self._declaration(index, match)
            elif match := _WITH.match(text):
                self.header.setdefault("target", match.group(1))
                self.options.update(self._options(index, match.group(2)))
            elif match := _STATEMENT.match(text):
                self.statements.append(self._statement(index, *match.groups()))
            else:
                raise self.error(index, f"cannot parse {shown(text)!r}")

    def _header(self, line: int, key: str, value: str, options: str | None) -> None:
        if key == "type" and value != "fock":
            raise self.error(line, f"program type {shown(value)!r} is not supported; the Fock simulator runs plain circuits")
        self.header[key] = value
        if key in ("target", "type"):
            self.options.update(self._options(line, options))

    def _options(self, line: int, text: str | None) -> dict[str, Any]:
        options = {}
        for part in _split_arguments(text or ""):
            match = _KEYWORD.match(part)
            if not match:
                raise self.error(line, f"target option {shown(part)!r} is not of the form name=value")
            options[match.group(1)] = self.evaluate(line, match.group(2))
            self.option_lines[match.group(1)] = line
        return options

    def _declaration(self, line: int, match: re.Match) -> int:
        kind, is_array, name, _shape, value = match.groups()
        if not is_array:
            self.variables[name] = self._typed(line, kind, self.evaluate(line, value))
            return line
        rows, index = [], line
        while index < len(self.lines):
            text = _strip_comment(self.lines[index])
            if not text.strip() or not text[:1].isspace() or "|" in text:
                break
            rows.append([self.evaluate(index + 1, part) for part in _split_arguments(text.strip())])
            index += 1
        if not rows or len({len(row) for row in rows}) != 1:
            raise self.error(line, f"array {name!r} needs indented rows of equal length")
        kind_dtype = complex if kind == "complex" else float
        try:
            self.variables[name] = np.array(rows, dtype=kind_dtype)
        except (TypeError, ValueError, OverflowError):
            raise self.error(line, f"array {name!r} needs {kind_dtype.__name__} numbers in every entry") from None
        return index

    def _typed(self, line: int, kind: str, value: Any) -> Any:
        if isinstance(value, np.ndarray):
            raise self.error(line, f"an array is not a valid {kind}; declare it with '{kind} array'")
        if isinstance(value, np.generic):
            value = value.item()  # numpy would cast complex to float with a warning, dropping the imaginary part
        try:
            return {"int": int, "float": float, "complex": complex, "str": str, "bool": bool}[kind](value)
        except (TypeError, ValueError, OverflowError) as exc:
            raise self.error(line, f"value {shown(repr(value))} is not a valid {kind}") from exc

    def _statement(self, line: int, operation: str, arguments: str | None, modes: str) -> _Statement:
        args, kwargs = [], {}
        for part in _split_arguments(arguments or ""):
            keyword = _KEYWORD.match(part)
            if keyword:
                kwargs[keyword.group(1)] = self.evaluate(line, keyword.group(2))
            elif kwargs:
                raise self.error(line, "positional argument after a keyword argument")
            else:
                args.append(self.evaluate(line, part))
        return _Statement(operation, args, kwargs, self._modes(line, modes), line)

    def _modes(self, line: int, text: str) -> tuple[int, ...] | None:
        text = text.strip()
        if text == "q":
            return None
        if text[:1] in "([" and text[-1:] in ")]":
            text = text[1:-1]
        modes = []
        for part in text.split(","):
            match = re.fullmatch(r"\s*(?:q\[(\d+)\]|(\d+))\s*", part)
            if not match:
                raise self.error(line, f"cannot read mode {shown(part.strip())!r}; write 0, q[0], (0, 1) or [0, 1]")
            digits = (match.group(1) or match.group(2)).lstrip("0") or "0"
            if len(digits) > len(str(MAX_MODES)) or int(digits) >= MAX_MODES:
                raise self.error(line, f"mode {shown(digits)} is past the last mode qvec can simulate "
                                       f"({MAX_MODES - 1}: at most {MAX_MODES} modes)")
            modes.append(int(digits))
        return tuple(modes)


def _strip_comment(line: str) -> str:
    quoted = False
    for position, char in enumerate(line):
        if char == '"':
            quoted = not quoted
        elif char == "#" and not quoted:
            return line[:position]
    return line


def _split_arguments(text: str) -> list[str]:
    """Split on commas outside brackets."""
    parts, depth, start = [], 0, 0
    for position, char in enumerate(text):
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(text[start:position])
            start = position + 1
    parts.append(text[start:])
    return [part.strip() for part in parts if part.strip()]


def _bind_arguments(parser: _Parser, statement: _Statement, names: tuple[tuple[str, Any], ...]) -> list[Any]:
    if len(statement.args) > len(names):
        raise parser.error(statement.line, f"{statement.operation} takes at most {len(names)} argument(s)")
    known = {name for name, _ in names}
    unknown = set(statement.kwargs) - known
    if unknown:
        raise parser.error(statement.line, f"{statement.operation} has no argument {sorted(unknown)[0]!r}")
    values = []
    for position, (name, default) in enumerate(names):
        value = statement.args[position] if position < len(statement.args) else statement.kwargs.get(name, default)
        if value is _REQUIRED:
            raise parser.error(statement.line, f"{statement.operation} needs argument {name!r}")
        values.append(value)
    return values


def _real(parser: _Parser, statement: _Statement, value: Any) -> Any:
    if isinstance(value, complex) or (isinstance(value, np.generic) and np.iscomplexobj(value)):
        if abs(complex(value).imag) > 1e-12:
            raise parser.error(statement.line, f"{statement.operation} needs real parameters, got {value}")
        return complex(value).real
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        raise parser.error(statement.line, f"{statement.operation} needs a number here, got an array")
    return value


def _apply(parser: _Parser, circuit: Circuit, statement: _Statement) -> None:
    method, names, polar = _OPERATIONS[statement.operation]
    values = _bind_arguments(parser, statement, names)
    if polar and isinstance(values[0], (complex, np.complexfloating)):
        values[0:2] = [abs(values[0]), cmath.phase(values[0])]
    modes = statement.modes
    arity = SPECS[method].n_modes if method in SPECS else (0 if method == "interferometer" else 1)
    if arity and len(modes) != arity:
        raise parser.error(statement.line, f"{statement.operation} acts on {arity} mode(s), got {len(modes)}")
    if method == "interferometer":
        if not isinstance(values[0], np.ndarray):
            raise parser.error(statement.line, "Interferometer needs an array variable holding the unitary")
        circuit.interferometer(modes, values[0])
        return
    values = [_real(parser, statement, v) for v in values]
    if method in ("xgate", "zgate"):
        if isinstance(values[0], str):
            raise parser.error(statement.line, f"{statement.operation} with a free parameter is not supported; use Dgate")
        circuit.d(modes[0], values[0] / math.sqrt(2 * circuit.hbar), 0.0 if method == "xgate" else math.pi / 2)
    elif method == "fourier":
        circuit.r(modes[0], math.pi / 2)
    elif method == "fock":
        count = values[0]
        if isinstance(count, float) and count.is_integer():
            count = int(count)
        circuit.fock(modes[0], count)
    else:
        getattr(circuit, method)(*modes, *values)


def _positive_option(parser: _Parser, name: str, maximum: int) -> int | None:
    """A target option that must be an integer from 1 to ``maximum`` (``num_subsystems``, ``cutoff_dim``), if given."""
    if name not in parser.options:
        return None
    value = parser.options[name]
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    line = parser.option_lines.get(name, 1)
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise parser.error(line, f"{name} must be a positive integer, got {shown(repr(value))}")
    if value > maximum:
        raise parser.error(line, f"{name}={value} is more than qvec can simulate (at most {maximum})")
    return int(value)


def _n_modes(parser: _Parser) -> int:
    """The target's ``num_subsystems`` (every mode used must be below it), or else the highest mode used plus one."""
    declared = _positive_option(parser, "num_subsystems", MAX_MODES)
    for statement in parser.statements:
        for mode in statement.modes or ():
            if declared is not None and mode >= declared:
                raise parser.error(statement.line, f"{statement.operation} acts on mode {mode}, but the program "
                                                    f"declares num_subsystems={declared}")
    if declared is not None:
        return declared
    used = [mode for statement in parser.statements for mode in statement.modes or ()]
    return max(used) + 1 if used else 1


def parse_blackbird(text: str, source: str = "<string>") -> BlackbirdProgram:
    """Parse Blackbird source text; ``source`` names it in error messages."""
    parser = _Parser(text, source)
    parser.parse()
    circuit = Circuit(_n_modes(parser))
    measured: dict[int, int] = {}
    measurements = []
    for statement in parser.statements:
        modes = statement.modes if statement.modes is not None else tuple(range(circuit.n_modes))
        if statement.operation.startswith("Measure"):
            measurements.append((statement.operation, modes))
            measured.update({mode: statement.line for mode in modes})
            continue
        if statement.operation not in _OPERATIONS:
            raise parser.error(statement.line, f"operation {shown(statement.operation)!r} is not supported by the Fock simulator")
        if statement.modes is None:
            raise parser.error(statement.line, f"{statement.operation} needs explicit modes, not q")
        if clash := [m for m in modes if m in measured]:
            raise parser.error(statement.line, f"mode {clash[0]} was measured on line {measured[clash[0]]}; "
                                               "operations after a measurement are not supported")
        try:
            _apply(parser, circuit, statement)
        except InputError as exc:
            if str(exc).startswith(f"{source}:"):
                raise
            raise parser.error(statement.line, str(exc)) from exc
    cutoff = _positive_option(parser, "cutoff_dim", MAX_CUTOFF)
    return BlackbirdProgram(circuit, cutoff, parser.header.get("name"),
                            parser.header.get("version"), parser.header.get("target"), parser.options, measurements)


def load_blackbird(path: str | Path) -> BlackbirdProgram:
    """Read and parse a ``.xbb`` file; errors name the file and line."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read Blackbird file ({exc.__class__.__name__}: {exc})") from exc
    return parse_blackbird(text, str(path))
