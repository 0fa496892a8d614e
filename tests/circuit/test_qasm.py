"""OpenQASM 2 export, and round trips: export then load gives an equal circuit."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import qvec
from qvec.circuit import GATES, load_qasm, parse_qasm, to_qasm
from qvec.circuit.operation import Operation
from qvec.circuit.qasm_layout import QasmLayout
from qvec.errors import InputError

from .reference import circuit_unitary, equal_up_to_phase

BELL = 'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[2];\nh q[0];\ncx q[0],q[1];\n'


def test_export_writes_the_header_register_and_qelib1_names() -> None:
    assert to_qasm(qvec.Circuit(2).h(0).cx(0, 1)) == BELL


def test_export_writes_angles_that_read_back_exactly() -> None:
    text = to_qasm(qvec.Circuit(1).rx(0, 0.1).u(0, math.pi, -1e-300, 2.5e10))
    assert text.splitlines()[-2:] == ["rx(0.1) q[0];", "u3(3.141592653589793,-1e-300,25000000000.0) q[0];"]


def test_export_defines_gates_that_qelib1_lacks_once() -> None:
    text = to_qasm(qvec.Circuit(3).ryy(0, 1, 0.5).ryy(1, 2, 0.25))
    assert text.count("gate ryy(theta) a,b {") == 1
    assert text.index("gate ryy") < text.index("qreg q[3];") < text.index("ryy(0.5) q[0],q[1];")


def test_parameters_take_values_from_params() -> None:
    circuit = qvec.Circuit(1).rx(0, "theta").ry(0, "phi")
    assert "rx(0.5) q[0];\nry(-2.0) q[0];" in to_qasm(circuit, {"theta": 0.5, "phi": -2})


def test_unbound_parameter_is_an_error_naming_it() -> None:
    with pytest.raises(InputError, match=r"parameter 'phi' \(angle 0 of ry\(phi\)\[0\]\) has no value"):
        to_qasm(qvec.Circuit(1).rx(0, "theta").ry(0, "phi"), {"theta": 0.5})


def test_scalar_tensor_angles_are_written_and_per_row_tensors_refused() -> None:
    assert "rz(0.25) q[0];" in to_qasm(qvec.Circuit(1).rz(0, torch.tensor(0.25, requires_grad=True)))
    with pytest.raises(InputError, match=r"angle 0 of rz\(tensor\(3,\)\)\[0\] is a per-row tensor of shape \(3,\)"):
        to_qasm(qvec.Circuit(1).rz(0, torch.zeros(3)))


def test_non_numeric_parameter_value_is_refused() -> None:
    with pytest.raises(InputError, match="value 'x' for angle 0"):
        to_qasm(qvec.Circuit(1).rz(0, "a"), {"a": "x"})


@st.composite
def circuits(draw) -> qvec.Circuit:
    n_qubits = draw(st.integers(3, 5))
    circuit = qvec.Circuit(n_qubits)
    angle = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False)
    for name in draw(st.lists(st.sampled_from(sorted(GATES)), max_size=12)):
        gate = GATES[name]
        wires = draw(st.permutations(range(n_qubits)))[: gate.n_qubits]
        circuit.append(name, wires, [draw(angle) for _ in range(gate.n_params)])
    return circuit


@settings(max_examples=60, deadline=None)
@given(circuit=circuits())
def test_round_trip_gives_an_equal_circuit(circuit: qvec.Circuit) -> None:
    loaded = parse_qasm(to_qasm(circuit))
    assert loaded == circuit
    assert loaded.fingerprint() == circuit.fingerprint()


def test_round_trip_of_every_gate() -> None:
    circuit = qvec.Circuit(3)
    for index, (name, gate) in enumerate(sorted(GATES.items())):
        circuit.append(name, [(index + k) % 3 for k in range(gate.n_qubits)], [0.1 * (index + k) for k in range(gate.n_params)])
    assert parse_qasm(to_qasm(circuit)) == circuit


def test_round_trip_of_tensor_angles_gives_their_float_values() -> None:
    circuit = qvec.Circuit(1).rx(0, torch.tensor(0.1, dtype=torch.float32))
    assert parse_qasm(to_qasm(circuit)) == qvec.Circuit(1).rx(0, float(torch.tensor(0.1, dtype=torch.float32)))


def test_load_reads_a_file_and_names_it_in_errors(tmp_path: Path) -> None:
    path = tmp_path / "bell.qasm"
    path.write_text(BELL + "measure q[0] -> c[0];\n")
    with pytest.raises(InputError, match=rf"^{re.escape(str(path))}:6:17: expected a classical register at 'c'$"):
        load_qasm(path)
    path.write_text(BELL)
    assert load_qasm(path) == qvec.Circuit(2).h(0).cx(0, 1)
    assert load_qasm(str(path)) == load_qasm(path)


def test_load_of_a_missing_or_binary_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="nothing.qasm: cannot read OpenQASM file"):
        load_qasm(tmp_path / "nothing.qasm")
    (tmp_path / "binary.qasm").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(InputError, match="binary.qasm: cannot read OpenQASM file"):
        load_qasm(tmp_path / "binary.qasm")


def test_a_program_written_by_another_tool() -> None:
    """Qiskit-style output: header, two registers, a custom gate, barriers and final measurements."""
    text = """OPENQASM 2.0;
include "qelib1.inc";
gate ryy(param0) q0,q1 { rx(pi/2) q0; rx(pi/2) q1; cx q0,q1; rz(param0) q1; cx q0,q1; rx(-pi/2) q0; rx(-pi/2) q1; }
gate entangle a,b { h a; cx a,b; }
qreg q[2];
qreg r[1];
creg meas[3];
entangle q[0],r[0];
ryy(pi/4) q[1],r[0];
barrier q[0],q[1],r[0];
measure q[0] -> meas[0];
measure q[1] -> meas[1];
measure r[0] -> meas[2];
"""
    expected = qvec.Circuit(3).h(0).cx(0, 2).ryy(1, 2, math.pi / 4)
    assert parse_qasm(text) == expected
    assert equal_up_to_phase(circuit_unitary(parse_qasm(text)), circuit_unitary(expected))


# -- what other readers see -----------------------------------------------------------------------

def _every_gate_circuit(n_qubits: int = 4) -> qvec.Circuit:
    rng = np.random.default_rng(11)
    circuit = qvec.Circuit(n_qubits)
    for name in sorted(GATES):
        gate = GATES[name]
        wires = [int(w) for w in rng.permutation(n_qubits)[: gate.n_qubits]]
        circuit.append(name, wires, [float(a) for a in rng.uniform(-3, 3, gate.n_params)])
    return circuit


@pytest.mark.parametrize("legacy", [False, True])
def test_qiskit_reads_the_export_and_agrees_on_the_unitary_and_the_state(legacy: bool) -> None:
    """Qiskit's default loader knows only the paper's qelib1.inc (no sx, p, u, swap, rxx, ...)."""
    pytest.importorskip("qiskit")
    from qiskit import qasm2
    from qiskit.quantum_info import Operator, Statevector

    circuit = _every_gate_circuit()
    options = {"custom_instructions": qasm2.LEGACY_CUSTOM_INSTRUCTIONS} if legacy else {}
    loaded = qasm2.loads(to_qasm(circuit), **options)
    # Qiskit's qubit 0 is the least significant bit; the dense reference has wire 0 most significant.
    assert np.allclose(Operator(loaded.reverse_bits()).data, circuit_unitary(circuit), atol=1e-10)
    state = circuit.statevector(dtype=torch.complex128)[0].numpy()
    assert np.allclose(Statevector(loaded).data, state, atol=1e-10)


def test_export_uses_only_the_standard_qelib1_names() -> None:
    from qvec.circuit.qasm_gates import EXPORT_DEFINITIONS, QELIB1_STANDARD

    text = to_qasm(_every_gate_circuit())
    body = text.split("qreg q[4];\n", 1)[1]
    called = {line.split()[0].split("(")[0] for line in body.splitlines()}
    assert called <= QELIB1_STANDARD | EXPORT_DEFINITIONS.keys()
    assert not called & {"p", "u", "cp"}
    for name in called - QELIB1_STANDARD:
        assert text.count(f"gate {name} ") + text.count(f"gate {name}(") == 1, name


def test_export_with_measurements_reads_in_qiskit_and_back_in_qvec() -> None:
    circuit = qvec.Circuit(3).h(0).cx(0, 1).sx(2)
    text = to_qasm(circuit, measure=True)
    assert text.endswith("creg c[3];\nh q[0];\ncx q[0],q[1];\nsx q[2];\nmeasure q -> c;\n")
    assert parse_qasm(text) == circuit
    qiskit = pytest.importorskip("qiskit")
    loaded = qiskit.qasm2.loads(text)
    assert loaded.num_clbits == 3 and loaded.count_ops()["measure"] == 3


def test_an_equivalent_redefinition_of_a_qelib1_gate_is_accepted_and_any_other_refused() -> None:
    text = 'OPENQASM 2.0;\ninclude "qelib1.inc";\n{}\nqreg q[1];\nsx q[0];\n'
    assert parse_qasm(text.format("gate sx a { h a; s a; h a; }")) == qvec.Circuit(1).sx(0)
    with pytest.raises(InputError, match="gate is already defined"):
        parse_qasm(text.format("gate sx a { h a; }"))
    with pytest.raises(InputError, match="gate is already defined"):
        parse_qasm(text.format("gate u1(l) a { u3(0,0,l) a; }"))


# -- a loaded program written back in its own terms ----------------------------------------------

NAMED = """OPENQASM 2.0;
include "qelib1.inc";
gate twist(theta) x, y { ry(theta / 2) x; cx x, y; rz(-theta) y; }
qreg a[2];
qreg b[1];
creg c[3];
h a;
twist(pi/3) a[0], b[0];
twist(0.7) a[1], b[0];
cx b[0], a[0];
measure a[0] -> c[2];
measure b[0] -> c[0];
"""


def _twist(circuit: qvec.Circuit, x: int, y: int, theta: float) -> qvec.Circuit:
    """The body of ``twist``, written by hand."""
    return circuit.ry(x, theta / 2).cx(x, y).rz(y, -theta)


def test_export_of_a_loaded_program_keeps_registers_custom_gates_and_measurements() -> None:
    circuit = parse_qasm(NAMED)
    expected = _twist(_twist(qvec.Circuit(3).h(0).h(1), 0, 2, math.pi / 3), 1, 2, 0.7).cx(2, 0)
    assert circuit == expected
    text = to_qasm(circuit)
    lines = text.splitlines()
    assert lines[2] == "gate twist(theta) x, y { ry(theta / 2) x; cx x, y; rz(- theta) y; }"
    assert lines[3:6] == ["qreg a[2];", "qreg b[1];", "creg c[3];"]
    assert lines[6:] == ["h a[0];", "h a[1];", f"twist({math.pi / 3!r}) a[0],b[0];", "twist(0.7) a[1],b[0];",
                         "cx b[0],a[0];", "measure a[0] -> c[2];", "measure b[0] -> c[0];"]
    again = parse_qasm(text)
    assert again == circuit and hash(again) == hash(circuit) and again.fingerprint() == expected.fingerprint()
    assert torch.equal(again.statevector(dtype=torch.complex128), expected.statevector(dtype=torch.complex128))
    assert to_qasm(again) == text
    assert "measure" not in to_qasm(circuit, measure=False) and "creg" not in to_qasm(circuit, measure=False)


def test_qiskit_reads_the_written_back_program_and_agrees_on_the_state() -> None:
    pytest.importorskip("qiskit")
    from qiskit import qasm2
    from qiskit.quantum_info import Operator, Statevector

    circuit = parse_qasm(NAMED)
    loaded = qasm2.loads(to_qasm(circuit))
    assert [register.name for register in loaded.qregs] == ["a", "b"] and [r.name for r in loaded.cregs] == ["c"]
    assert loaded.count_ops()["twist"] == 2 and loaded.count_ops()["measure"] == 2
    measured = {(loaded.find_bit(i.qubits[0]).index, loaded.find_bit(i.clbits[0]).index)
                for i in loaded.data if i.operation.name == "measure"}
    assert measured == {(0, 2), (2, 0)}
    unitary_part = loaded.remove_final_measurements(inplace=False)
    assert np.allclose(Operator(unitary_part.reverse_bits()).data, circuit_unitary(circuit), atol=1e-10)
    state = circuit.statevector(dtype=torch.complex128)[0].numpy()
    assert np.allclose(Statevector(unitary_part).data, state, atol=1e-10)


def test_a_changed_call_is_written_as_its_operations_and_other_qubits_fall_back_to_q() -> None:
    circuit = parse_qasm(NAMED)
    changed = qvec.Circuit(3, [*circuit.operations[:3], Operation("rx", (0,), (0.1,)), *circuit.operations[4:]])
    assert "twist" not in to_qasm(changed) and "qreg q[3];" in to_qasm(changed)  # a new circuit: no layout
    changed.qasm_layout = circuit.qasm_layout  # same width, but the first call's operations are no longer there
    text = to_qasm(changed)
    assert "twist(1.0471975511965976)" not in text and "twist(0.7) a[1],b[0];" in text
    assert "ry(0.5235987755982988) a[0];\nrx(0.1) a[0];\nrz(-1.0471975511965976) b[0];\ntwist(0.7)" in text
    assert parse_qasm(text) == changed
    appended = parse_qasm(NAMED).x(1)
    assert to_qasm(appended).count("\ntwist(") == 2 and "x a[1];\nmeasure" in to_qasm(appended)
    wider = parse_qasm(NAMED)
    wider.qasm_layout = QasmLayout((("a", 2),), (("c", 3),))
    assert "qreg q[3];" in to_qasm(wider) and "twist" not in to_qasm(wider)


def test_gates_outside_the_standard_qelib1_are_not_kept_as_calls() -> None:
    """A definition calling ``sx`` (not in the paper's qelib1) or named like a qelib1 gate is expanded."""
    text = 'OPENQASM 2.0;\ninclude "qelib1.inc";\ngate half a { sx a; }\ngate uses b { half b; h b; }\nqreg q[1];\nuses q[0];\n'
    circuit = parse_qasm(text)
    written = to_qasm(circuit, measure=True)
    assert "half" not in written and "uses" not in written
    assert written.endswith("creg c[1];\nsx q[0];\nh q[0];\nmeasure q[0] -> c[0];\n")
    assert parse_qasm(written) == circuit
