"""A recursive-descent reader of OpenQASM 2 programs that produces a ``Circuit``.

Supported: the ``OPENQASM 2.x`` header, ``include "qelib1.inc"``, ``qreg``/``creg`` (several
quantum registers are laid end to end in declaration order), gate calls with register
broadcasting, ``gate`` definitions, ``barrier`` (ignored) and ``measure`` (every qubit is
measured at the end anyway, so a measurement only refuses later gates on that qubit). The registers,
measurements and calls of the file's own gates are kept as ``circuit.qasm_layout`` for ``to_qasm``.
Anything else (``if``, ``reset``, ``opaque``, other includes, OpenQASM 3) is a located ``InputError``.

Work is bounded before it is done: at most ``MAX_QUBITS`` qubits and ``MAX_CLASSICAL_BITS`` bits in all
registers, at most ``MAX_OPERATIONS`` operations after expanding gate definitions and broadcasts (each
call is counted before it is expanded), and angle expressions at most ``MAX_EXPRESSION_DEPTH`` deep.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Callable

from qvec.errors import InputError

from .circuit import Circuit
from .gates import GATES
from .qasm_gates import (
    BUILTIN_GATES, QELIB1_DEFINITIONS, QELIB1_NATIVE_GATES, QELIB1_STANDARD, BodyCall, DefinedGate, IROperation,
    NativeGate, QasmGate, is_equivalent,
)
from .qasm_layout import GateCall, GateText, QasmLayout
from .qasm_syntax import MAX_EXPRESSION_DEPTH, Expression, Token, TokenStream, parse_expression

__all__ = ["parse_program", "MAX_QUBITS", "MAX_CLASSICAL_BITS", "MAX_OPERATIONS", "MAX_EXPRESSION_DEPTH"]

# Far past what the local simulator (60 qubits) or any quantum computer runs, and cheap to lay out.
MAX_QUBITS = 1024
MAX_CLASSICAL_BITS = 1024
# Operations of the whole circuit: reading one takes about 5-8 us, so the largest program loads in seconds.
MAX_OPERATIONS = 1_000_000
# A definition named like an IR gate is compared with it (as a dense unitary) only when it is this short.
MAX_PROBED_OPERATIONS = 100

_UNSUPPORTED = {
    "if": "classically controlled gates ('if') are not supported", "reset": "'reset' is not supported",
    "opaque": "opaque gates are not supported",
}
_OPENQASM3_WORDS = frozenset(
    "qubit bit int uint float angle bool let def defcal cal for while break continue return box delay "
    "ctrl negctrl inv pow gphase input output const stretch duration".split()
)


@dataclass
class _Program:
    """What the statements read so far declare and do."""

    gates: dict[str, QasmGate]
    qubits: list[str] = field(default_factory=list)                      # "q[0]" for each flat index
    qregs: dict[str, range] = field(default_factory=dict)
    cregs: dict[str, int] = field(default_factory=dict)
    operations: list[tuple[IROperation, Token]] = field(default_factory=list)
    measured: dict[int, Token] = field(default_factory=dict)
    measurements: list[tuple[int, str, int]] = field(default_factory=list)  # (qubit, creg, bit)
    definitions: list[GateText] = field(default_factory=list)
    calls: list[tuple[str, tuple[float, ...], tuple[int, ...], int, int]] = field(default_factory=list)
    includes_qelib1: bool = False


def parse_program(text: str, filename: str) -> Circuit:
    """Read a whole OpenQASM 2 program into a circuit."""
    stream = TokenStream(text, filename)
    program = _Program(dict(BUILTIN_GATES))
    _Reader(stream, program).read_all()
    if not program.qubits:
        raise stream.error("the program declares no qubits (no 'qreg')")
    circuit = Circuit(len(program.qubits))
    for (gate, wires, angles), token in program.operations:
        try:
            circuit.append(gate, wires, angles)
        except InputError as exc:
            raise stream.error(str(exc), token) from None
    circuit.qasm_layout = _layout(program, circuit)
    return circuit


def _layout(program: _Program, circuit: Circuit) -> QasmLayout:
    """The registers, measurements and the calls of the file's own gates that an OpenQASM 2 reader
    with the standard qelib1.inc can read back (definitions that call only its gates or each other)."""
    taken = GATES.keys() | _qelib1_gates().keys()
    kept: dict[str, GateText] = {}
    for definition in program.definitions:
        callable_ = QELIB1_STANDARD | {"U", "CX"} | kept.keys()
        if definition.name not in taken and set(definition.calls) <= callable_:
            kept[definition.name] = GateText(definition.name, definition.text,
                                             tuple(name for name in definition.calls if name in kept))
    operations = circuit.operations
    calls = tuple(GateCall(name, args, wires, start, operations[start:start + count])
                  for name, args, wires, start, count in program.calls if name in kept)
    return QasmLayout(tuple((name, len(qubits)) for name, qubits in program.qregs.items()),
                      tuple(program.cregs.items()), tuple(program.measurements), tuple(kept.values()), calls)


@cache
def _qelib1_gates() -> dict[str, QasmGate]:
    """qelib1's gates: the IR's own and its aliases, then the definitions of the rest."""
    program = _Program({**BUILTIN_GATES, **QELIB1_NATIVE_GATES})
    _Reader(TokenStream(QELIB1_DEFINITIONS, "qelib1.inc"), program).read_all()
    return program.gates


class _Reader:
    """Reads statements one by one into a ``_Program``."""

    def __init__(self, stream: TokenStream, program: _Program) -> None:
        self.stream = stream
        self.program = program
        self.statements: dict[str, Callable[[Token], None]] = {
            "OPENQASM": self.header, "include": self.include, "qreg": self.qreg, "creg": self.creg,
            "gate": self.gate_definition, "measure": self.measure, "barrier": self.barrier,
        }

    def read_all(self) -> None:
        first = True
        while self.stream.peek().kind != "end":
            token = self.stream.next()
            if token.text == "OPENQASM" and not first:
                raise self.stream.error("'OPENQASM' must be the first statement", token)
            self.statement(token)
            first = False

    def statement(self, token: Token) -> None:
        if token.kind != "identifier":
            raise self.stream.error("expected a statement", token)
        if token.text in _UNSUPPORTED:
            raise self.stream.error(_UNSUPPORTED[token.text], token)
        if token.text in _OPENQASM3_WORDS:
            raise self.stream.error("OpenQASM 3 is not supported (qvec reads OpenQASM 2)", token)
        self.statements.get(token.text, self.gate_call)(token)

    # -- declarations ---------------------------------------------------------------------
    def header(self, token: Token) -> None:
        version = self.stream.next()
        if version.kind not in ("real", "integer") or version.text.split(".")[0] != "2":
            raise self.stream.error("only OpenQASM 2 is supported", version)
        self.stream.expect(";")

    def include(self, token: Token) -> None:
        name = self.stream.expect_kind("string", "a file name in double quotes")
        if name.text != '"qelib1.inc"':
            raise self.stream.error('only include "qelib1.inc" is supported', name)
        self.stream.expect(";")
        library = _qelib1_gates()
        clash = next((name for name, gate in self.program.gates.items() if library.get(name, gate) is not gate), None)
        if clash is not None:
            raise self.stream.error(f"qelib1.inc defines gate {clash!r} again", name)
        self.program.gates.update(library)
        self.program.includes_qelib1 = True

    def qreg(self, token: Token) -> None:
        name, size = self._declaration(MAX_QUBITS - len(self.program.qubits), f"{MAX_QUBITS} qubits")
        start = len(self.program.qubits)
        self.program.qregs[name] = range(start, start + size)
        self.program.qubits.extend(f"{name}[{i}]" for i in range(size))

    def creg(self, token: Token) -> None:
        room = MAX_CLASSICAL_BITS - sum(self.program.cregs.values())
        name, size = self._declaration(room, f"{MAX_CLASSICAL_BITS} classical bits")
        self.program.cregs[name] = size

    def _declaration(self, room: int, limit: str) -> tuple[str, int]:
        """A register's name and size, refused before anything is laid out when the program would exceed ``limit``."""
        name = self.stream.expect_kind("identifier", "a register name")
        if name.text in self.program.qregs or name.text in self.program.cregs:
            raise self.stream.error("register is already declared", name)
        self.stream.expect("[")
        size_token = self.stream.expect_kind("integer", "a register size")
        size = _bounded_integer(size_token.text, room)
        if size is None:
            raise self.stream.error(f"registers of more than {limit} in all are not supported", size_token)
        if size < 1:
            raise self.stream.error("a register needs at least one bit", size_token)
        self.stream.expect("]")
        self.stream.expect(";")
        return name.text, size

    # -- gate definitions -----------------------------------------------------------------
    def gate_definition(self, token: Token) -> None:
        start = self.stream.position - 1
        name = self.stream.expect_kind("identifier", "a gate name")
        previous = self.program.gates.get(name.text)
        params: tuple[str, ...] = ()
        if self.stream.accept("(") and not self.stream.accept(")"):
            params = self._identifiers(")")
        qubits = self._identifiers("{")
        body: list[BodyCall] = []
        while not self.stream.accept("}"):
            call = self._body_statement(params, qubits)
            if call is not None:
                body.append(call)
        gate = self._as_native(DefinedGate(name.text, params, len(qubits), tuple(body)))
        if previous is not None and not (isinstance(gate, NativeGate) and previous == gate):
            raise self.stream.error("gate is already defined", name)
        self.program.gates[name.text] = gate
        if isinstance(gate, DefinedGate):
            calls = tuple(dict.fromkeys(call.token.text for call in body))
            self.program.definitions.append(GateText(name.text, self.stream.source(start), calls))

    def _as_native(self, gate: DefinedGate) -> QasmGate:
        """A definition of an IR gate becomes that IR gate: exporters define the gates the standard
        qelib1.inc lacks (``ryy``, ``sx``, ...), which a newer qelib1 may have defined already."""
        try:
            if gate.name in GATES and gate.size <= MAX_PROBED_OPERATIONS and is_equivalent(gate, gate.name):
                return NativeGate(gate.name, gate.n_qubits, gate.n_params)
        except InputError:
            pass  # its body cannot be evaluated at the probe angles: keep it as written
        return gate

    def _identifiers(self, closing: str) -> tuple[str, ...]:
        """A non-empty comma-separated list of distinct names, up to ``closing``."""
        names: list[str] = []
        while True:
            token = self.stream.expect_kind("identifier", "a name")
            if token.text in names:
                raise self.stream.error("name is used twice", token)
            names.append(token.text)
            if self.stream.accept(closing):
                return tuple(names)
            self.stream.expect(",")

    def _body_statement(self, params: tuple[str, ...], qubits: tuple[str, ...]) -> BodyCall | None:
        token = self.stream.expect_kind("identifier", "a gate call or '}'")
        if token.text == "barrier":
            self._formal_qubits(qubits)
            return None
        gate = self._lookup(token)
        args = self._arguments(params)
        wires = self._formal_qubits(qubits)
        if len(set(wires)) != len(wires):
            raise self.stream.error("the same qubit is passed twice", token)
        self._check_arity(token, gate, len(args), len(wires))
        return BodyCall(gate, args, wires, token)

    def _formal_qubits(self, qubits: tuple[str, ...]) -> tuple[int, ...]:
        wires: list[int] = []
        while True:
            token = self.stream.expect_kind("identifier", "a qubit of the gate")
            if token.text not in qubits:
                raise self.stream.error("not a qubit of this gate", token)
            wires.append(qubits.index(token.text))
            if self.stream.accept(";"):
                return tuple(wires)
            if not self.stream.accept(","):
                raise self.stream.error("expected ',' or ';'")

    # -- gate calls, barrier and measure ----------------------------------------------------
    def gate_call(self, token: Token) -> None:
        gate = self._lookup(token)
        args = tuple(arg({}) for arg in self._arguments(()))
        operands = self._operands()
        self._check_arity(token, gate, len(args), len(operands))
        broadcast = self._broadcast(operands, token)
        self._check_room(token, gate.size * len(broadcast))
        for wires in broadcast:
            if len(set(wires)) != len(wires):
                raise self.stream.error(f"the same qubit {self.program.qubits[wires[0]]} is passed twice", token)
            start = len(self.program.operations)
            for operation in gate.expand(args, wires):
                self._record(operation, token)
            if isinstance(gate, DefinedGate):
                count = len(self.program.operations) - start
                self.program.calls.append((token.text, tuple(float(a) for a in args), wires, start, count))

    def _check_room(self, token: Token, count: int) -> None:
        """Refuse a call that would take the circuit past ``MAX_OPERATIONS``, before expanding it."""
        if len(self.program.operations) + count > MAX_OPERATIONS:
            raise self.stream.error(f"the call expands to {_quantity(count)} operation(s), taking the circuit past "
                                    f"{MAX_OPERATIONS:,} operations, the most qvec reads from one program", token)

    def _record(self, operation: IROperation, token: Token) -> None:
        for wire in operation[1]:
            if wire in self.program.measured:
                where = self.program.measured[wire].line
                raise self.stream.error(f"gate on {self.program.qubits[wire]} after it was measured on line {where}: "
                                        "mid-circuit measurement is not supported", token)
        self.program.operations.append((operation, token))

    def barrier(self, token: Token) -> None:
        self._operands()

    def measure(self, token: Token) -> None:
        qubits = self._operand(self.program.qregs, "a quantum register")
        self.stream.expect("->")
        creg = self.stream.peek().text
        bits = self._operand({name: range(size) for name, size in self.program.cregs.items()}, "a classical register")
        self.stream.expect(";")
        if len(qubits) != len(bits):
            raise self.stream.error(f"measure maps {len(qubits)} qubit(s) to {len(bits)} bit(s)", token)
        for wire, bit in zip(qubits, bits):
            self.program.measured.setdefault(wire, token)
            self.program.measurements.append((wire, creg, bit))

    def _lookup(self, token: Token) -> QasmGate:
        gate = self.program.gates.get(token.text)
        if gate is None:
            hint = "" if self.program.includes_qelib1 or token.text not in _qelib1_gates() else ' (include "qelib1.inc")'
            raise self.stream.error(f"unknown gate{hint}", token)
        return gate

    def _check_arity(self, token: Token, gate: QasmGate, n_args: int, n_qubits: int) -> None:
        if n_args != gate.n_params:
            raise self.stream.error(f"gate takes {gate.n_params} angle(s), got {n_args}", token)
        if n_qubits != gate.n_qubits:
            raise self.stream.error(f"gate acts on {gate.n_qubits} qubit(s), got {n_qubits}", token)

    def _arguments(self, params: tuple[str, ...]) -> tuple[Expression, ...]:
        if not self.stream.accept("("):
            return ()
        if self.stream.accept(")"):
            return ()
        args = [parse_expression(self.stream, params)]
        while self.stream.accept(","):
            args.append(parse_expression(self.stream, params))
        self.stream.expect(")")
        return tuple(args)

    def _operands(self) -> list[range]:
        """Qubit operands up to ';': each a whole register or a one-qubit range."""
        operands = [self._operand(self.program.qregs, "a quantum register")]
        while self.stream.accept(","):
            operands.append(self._operand(self.program.qregs, "a quantum register"))
        self.stream.expect(";")
        return operands

    def _operand(self, registers: dict[str, range], what: str) -> range:
        name = self.stream.expect_kind("identifier", what)
        if name.text not in registers:
            raise self.stream.error(f"expected {what}", name)
        register = registers[name.text]
        if not self.stream.accept("["):
            return register
        index_token = self.stream.expect_kind("integer", "an index")
        index = _bounded_integer(index_token.text, len(register) - 1)
        if index is None:
            raise self.stream.error(f"index out of range for {name.text}[{len(register)}]", index_token)
        self.stream.expect("]")
        return register[index: index + 1]

    def _broadcast(self, operands: list[range], token: Token) -> list[tuple[int, ...]]:
        """Whole-register operands apply the gate to each index in turn; single qubits repeat."""
        sizes = {len(operand) for operand in operands if len(operand) > 1}
        if len(sizes) > 1:
            raise self.stream.error(f"registers of different sizes {sorted(sizes)} in one gate call", token)
        size = sizes.pop() if sizes else 1
        return [tuple(operand[i if len(operand) > 1 else 0] for operand in operands) for i in range(size)]


def _bounded_integer(digits: str, limit: int) -> int | None:
    """The value of a decimal integer token, or None when it exceeds ``limit`` (checked on the digits first:
    Python refuses to convert more than 4300 digits)."""
    significant = digits.lstrip("0") or "0"
    if len(significant) > len(str(limit)) or int(significant) > limit:
        return None
    return int(significant)


def _quantity(count: int) -> str:
    """A count for a message: exact up to 10**15, else its power of ten (a nested definition may expand to 2**1000)."""
    return f"{count:,}" if count < 10**15 else f"about 10**{len(str(count)) - 1}"
