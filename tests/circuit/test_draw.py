"""Text diagrams of circuits."""

from __future__ import annotations

import torch

import qvec


def test_bell_with_a_named_rotation() -> None:
    circuit = qvec.Circuit(2).h(0).cx(0, 1).ry(1, "theta")
    assert qvec.draw(circuit) == "\n".join([
        "q0: ─H──●─────────────",
        "        │",
        "q1: ────X──RY(theta)──",
    ])


def test_gates_on_disjoint_qubits_share_a_column_and_connectors_cross_idle_wires() -> None:
    circuit = qvec.Circuit(3).h(0).x(2).cz(0, 2).rx(1, 0.5)
    assert qvec.draw(circuit) == "\n".join([
        "q0: ─H──●───────────",
        "        │",
        "q1: ────┼──RX(0.5)──",
        "        │",
        "q2: ─X──Z───────────",
    ])


def test_angles_show_by_name_value_or_tensor_and_inverse_names_are_negated() -> None:
    circuit = qvec.Circuit(2).u(0, "a", 0.25, torch.tensor([1.0, 2.0])).swap(0, 1).crx(1, 0, "b").inverse()
    text = qvec.draw(circuit)
    assert "RX(-b)" in text and "U(-a,tensor[2],-0.25)" in text
    lines = text.splitlines()
    assert lines[0].count("x") == 1 and lines[2].count("x") == 1 and "●" in lines[2]


def test_an_empty_circuit_is_bare_wires() -> None:
    assert qvec.draw(qvec.Circuit(2)) == "q0: ─\n\nq1: ─"


def test_eleven_qubits_align_their_names_and_a_spanning_gate_keeps_its_column() -> None:
    lines = qvec.draw(qvec.Circuit(11).cx(0, 10).h(3)).splitlines()
    assert lines[0] == " q0: ─●─────" and lines[6] == " q3: ─┼──H──" and lines[-1] == "q10: ─X─────"
    assert all(line.rstrip() == "      │" for line in lines[1::2])


def test_draw_and_hamiltonian_are_top_level_names() -> None:
    assert qvec.draw is qvec.circuit.draw
    assert qvec.Hamiltonian is qvec.circuit.Hamiltonian
