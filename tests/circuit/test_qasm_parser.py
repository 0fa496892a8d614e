"""Reading OpenQASM 2 programs: statements, registers, broadcasting, definitions, and located errors."""

from __future__ import annotations

import math

import pytest

import qvec
from qvec.circuit import parse_qasm, qasm_parser
from qvec.circuit.qasm_parser import MAX_CLASSICAL_BITS, MAX_OPERATIONS, MAX_QUBITS
from qvec.errors import InputError

HEADER = 'OPENQASM 2.0;\ninclude "qelib1.inc";\n'


def read(body: str) -> qvec.Circuit:
    return parse_qasm(HEADER + body, "f.qasm")


def test_registers_are_laid_end_to_end_in_declaration_order() -> None:
    circuit = read("qreg a[2];\ncreg c[2];\nqreg b[3];\nx b[0];\ncx a[1], b[2];")
    assert circuit == qvec.Circuit(5).x(2).cx(1, 4)


def test_a_register_declared_after_gates_extends_the_circuit() -> None:
    assert read("qreg a[1]; h a[0]; qreg b[1]; h b[0];") == qvec.Circuit(2).h(0).h(1)


def test_whole_registers_broadcast() -> None:
    assert read("qreg q[3]; h q;") == qvec.Circuit(3).h(0).h(1).h(2)
    assert read("qreg a[2]; qreg b[2]; cx a, b;") == qvec.Circuit(4).cx(0, 2).cx(1, 3)
    assert read("qreg a[1]; qreg b[2]; cx a[0], b;") == qvec.Circuit(3).cx(0, 1).cx(0, 2)


def test_builtin_gates_work_without_qelib1() -> None:
    circuit = parse_qasm("OPENQASM 2.0; qreg q[2]; U(pi/2, 0, pi) q[0]; CX q[0], q[1];")
    assert circuit == qvec.Circuit(2).u(0, math.pi / 2, 0.0, math.pi).cx(0, 1)


def test_header_is_optional_and_comments_are_ignored() -> None:
    text = '// a comment\ninclude "qelib1.inc"; /* another */ qreg q[1]; x q[0]; // trailing'
    assert parse_qasm(text) == qvec.Circuit(1).x(0)


def test_barrier_and_final_measurements_record_nothing() -> None:
    circuit = read("qreg q[2]; creg c[2]; h q[0]; barrier q; barrier q[0], q[1]; measure q -> c; barrier q;")
    assert circuit == qvec.Circuit(2).h(0)


def test_gate_definitions_are_expanded_with_their_arguments() -> None:
    circuit = read("gate twist(a, b) x, y { rz(a/2) x; cx x, y; ry(-b) y; }\n"
                   "gate nothing q { }\nqreg q[3];\ntwist(pi, 0.5) q[2], q[0];\nnothing q[1];")
    assert circuit == qvec.Circuit(3).rz(2, math.pi / 2).cx(2, 0).ry(0, -0.5)


def test_definitions_may_use_earlier_definitions_and_barriers() -> None:
    circuit = read("gate bell a, b { h a; barrier a, b; cx a, b; }\ngate two a, b, c { bell a, b; bell b, c; }\n"
                   "qreg q[3]; two q[0], q[1], q[2];")
    assert circuit == qvec.Circuit(3).h(0).cx(0, 1).h(1).cx(1, 2)


def test_a_definition_of_an_ir_gate_that_differs_is_expanded_as_written() -> None:
    circuit = read("gate ryy(t) a, b { rzz(t) a, b; }\nqreg q[2]; ryy(0.5) q[0], q[1];")
    assert circuit == qvec.Circuit(2).rzz(0, 1, 0.5)


def test_a_definition_of_an_ir_gate_without_qelib1_becomes_the_ir_gate() -> None:
    circuit = parse_qasm("gate h a { U(pi/2, 0, pi) a; }\nqreg q[1]; h q[0];")
    assert circuit == qvec.Circuit(1).h(0)


@pytest.mark.parametrize("body, message", [
    ("qreg q[1];\nif (c==1) x q[0];", r"^f.qasm:4:1: classically controlled gates \('if'\) are not supported at 'if'$"),
    ("qreg q[1];\nreset q[0];", r"^f.qasm:4:1: 'reset' is not supported at 'reset'$"),
    ("opaque magic a;", r"^f.qasm:3:1: opaque gates are not supported at 'opaque'$"),
    ('include "other.inc";', r"^f.qasm:3:9: only include \"qelib1.inc\" is supported at '\"other.inc\"'$"),
    ("OPENQASM 2.0;", r"^f.qasm:3:1: 'OPENQASM' must be the first statement at 'OPENQASM'$"),
    ("qubit[2] q;", r"^f.qasm:3:1: OpenQASM 3 is not supported \(qvec reads OpenQASM 2\) at 'qubit'$"),
    ("qreg q[2];\nfoo q[0];", r"^f.qasm:4:1: unknown gate at 'foo'$"),
    ("qreg q[2];\nh r[0];", r"^f.qasm:4:3: expected a quantum register at 'r'$"),
    ("qreg q[2];\nh q[2];", r"^f.qasm:4:5: index out of range for q\[2\] at '2'$"),
    ("qreg q[2];\ncx q[1], q[1];", r"^f.qasm:4:1: the same qubit q\[1\] is passed twice at 'cx'$"),
    ("qreg q[2];\nrx q[0];", r"^f.qasm:4:1: gate takes 1 angle\(s\), got 0 at 'rx'$"),
    ("qreg q[2];\nh(0.1) q[0];", r"^f.qasm:4:1: gate takes 0 angle\(s\), got 1 at 'h'$"),
    ("qreg q[2];\ncx q[0];", r"^f.qasm:4:1: gate acts on 2 qubit\(s\), got 1 at 'cx'$"),
    ("qreg q[2];\nrx(theta) q[0];", r"^f.qasm:4:4: unknown name in angle expression at 'theta'$"),
    ("qreg q[2];\nrx(1/0) q[0];", r"^f.qasm:4:4: cannot evaluate angle expression .* at '1'$"),
    ("qreg q[2]\nh q[0];", r"^f.qasm:4:1: expected ';' at 'h'$"),
    ("qreg q[0];", r"^f.qasm:3:8: a register needs at least one bit at '0'$"),
    ("qreg q[2];\nqreg q[1];", r"^f.qasm:4:6: register is already declared at 'q'$"),
    ("qreg q[2]; qreg r[3];\ncx q, r;", r"^f.qasm:4:1: registers of different sizes \[2, 3\] in one gate call at 'cx'$"),
    ("qreg q[2]; creg c[1];\nmeasure q -> c;", r"^f.qasm:4:1: measure maps 2 qubit\(s\) to 1 bit\(s\) at 'measure'$"),
    ("qreg q[2]; creg c[2];\nmeasure q[0] -> c[0];\nh q[1];\ncx q[1], q[0];",
     r"^f.qasm:6:1: gate on q\[0\] after it was measured on line 4: mid-circuit measurement is not supported at 'cx'$"),
    ("gate h a { x a; }", r"^f.qasm:3:6: gate is already defined at 'h'$"),
    ("gate g(a, a) q { }", r"^f.qasm:3:11: name is used twice at 'a'$"),
    ("gate g a { h b; }", r"^f.qasm:3:14: not a qubit of this gate at 'b'$"),
    ("gate g a, b { cx a, a; }", r"^f.qasm:3:15: the same qubit is passed twice at 'cx'$"),
    ("gate g a { rx(b) a; }", r"^f.qasm:3:15: unknown name in angle expression at 'b'$"),
    ("gate g a { h a[0]; }", r"^f.qasm:3:15: expected ',' or ';' at '\['$"),
    ("gate g a { h a;", r"^f.qasm:3:16: expected a gate call or '}' at end of file$"),
    ("qreg q[1];\nh q[0];\n}", r"^f.qasm:5:1: expected a statement at '}'$"),
    ("h q[0];", r"^f.qasm:3:3: expected a quantum register at 'q'$"),
    ("", r"^f.qasm:3:1: the program declares no qubits \(no 'qreg'\) at end of file$"),
])
def test_malformed_programs_name_file_line_and_token(body: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        read(body)


def test_qelib1_gate_without_include_hints_at_it() -> None:
    with pytest.raises(InputError, match=r"^f.qasm:1:12: unknown gate \(include \"qelib1.inc\"\) at 'h'$"):
        parse_qasm("qreg q[1]; h q[0];", "f.qasm")


def test_openqasm_3_header() -> None:
    with pytest.raises(InputError, match=r"^f.qasm:1:10: only OpenQASM 2 is supported at '3.0'$"):
        parse_qasm("OPENQASM 3.0;\nqubit q;", "f.qasm")


def test_non_finite_angle() -> None:
    with pytest.raises(InputError, match=r"^f.qasm:4:4: angle expression evaluates to inf"):
        read("qreg q[1];\nrx(1e308*10) q[0];")


def test_including_qelib1_after_defining_one_of_its_gates() -> None:
    with pytest.raises(InputError, match=r"^f.qasm:2:9: qelib1.inc defines gate 'x' again at '\"qelib1.inc\"'$"):
        parse_qasm('gate x a { U(pi, 0, pi) a; }\ninclude "qelib1.inc";', "f.qasm")
    assert read('include "qelib1.inc";\nqreg q[1]; x q[0];') == qvec.Circuit(1).x(0)


@pytest.mark.parametrize("body, column", [
    ("qreg q[1000000000];", 8),                                 # hung while naming a billion qubits
    ("qreg q[10000000];", 8),                                   # took 9.6 s
    ("qreg q[" + "9" * 5000 + "];", 8),                         # past Python's 4300-digit int() limit
    (f"qreg a[{MAX_QUBITS - 1}]; qreg b[2];", 22),              # the limit is on all registers together
    (f"creg c[{MAX_CLASSICAL_BITS + 1}];", 8),
])
def test_registers_past_the_limit_are_refused_before_laying_them_out(body: str, column: int) -> None:
    with pytest.raises(InputError, match=rf"^f.qasm:3:{column}: registers of more than \d+ (qubits|classical bits) "
                                         "in all are not supported at "):
        read(body)


def test_registers_up_to_the_limit_load() -> None:
    circuit = read(f"qreg a[{MAX_QUBITS - 1}]; qreg b[1]; creg c[{MAX_CLASSICAL_BITS}];\nx b[0];")
    assert circuit == qvec.Circuit(MAX_QUBITS).x(MAX_QUBITS - 1)


def test_an_index_of_thousands_of_digits_is_out_of_range() -> None:
    with pytest.raises(InputError, match=r"^f.qasm:3:16: index out of range for q\[2\] at '9{40}'\.\.\.$"):
        read("qreg q[2]; x q[" + "9" * 5000 + "];")


def doubling_definitions(levels: int) -> str:
    """``g{levels}`` calls ``x`` 2**levels times: each definition calls the one before twice."""
    return "gate g0 a { x a; }\n" + "".join(f"gate g{i} a {{ g{i - 1} a; g{i - 1} a; }}\n" for i in range(1, levels + 1))


@pytest.mark.parametrize("levels, count", [(22, "4,194,304"), (1000, r"about 10\*\*301")])
def test_a_call_is_counted_before_it_is_expanded(levels: int, count: str) -> None:
    # 22 levels (2**22 operations) used to hang while expanding; now the call is refused where it stands.
    program = f"qreg q[1];\n{doubling_definitions(levels)}g{levels} q[0];"
    with pytest.raises(InputError, match=rf"^f.qasm:{levels + 5}:1: the call expands to {count} operation\(s\), "
                                         rf"taking the circuit past {MAX_OPERATIONS:,} operations"):
        read(program)


def test_the_operation_limit_counts_broadcasts_and_earlier_statements(monkeypatch) -> None:
    monkeypatch.setattr(qasm_parser, "MAX_OPERATIONS", 8)
    program = f"qreg q[4];\n{doubling_definitions(1)}h q;\ng1 q[0];\ng1 q[1];"
    assert read(program) == qvec.Circuit(4).h(0).h(1).h(2).h(3).x(0).x(0).x(1).x(1)
    with pytest.raises(InputError, match=r"^f.qasm:9:1: the call expands to 1 operation\(s\), taking the circuit "
                                         r"past 8 operations"):
        read(program + "\nx q[0];")
    with pytest.raises(InputError, match=r"^f.qasm:7:1: the call expands to 8 operation\(s\)"):
        read(f"qreg q[4];\n{doubling_definitions(1)}h q;\ng1 q;")


def test_definitions_nested_deeper_than_the_python_stack_expand() -> None:
    chain = "gate g0 a { x a; }\n" + "".join(f"gate g{i} a {{ g{i - 1} a; }}\n" for i in range(1, 3000))
    assert read(f"qreg q[1];\n{chain}g2999 q[0];") == qvec.Circuit(1).x(0)


def test_a_long_definition_named_like_an_ir_gate_is_not_expanded_to_compare_it() -> None:
    # An x defined by 2**40 calls of x would take hours to compare with x as a dense unitary.
    with pytest.raises(InputError, match=r"^f.qasm:45:6: gate is already defined at 'x'$"):
        read(f"qreg q[1];\n{doubling_definitions(40)}gate x a {{ g40 a; }}")
