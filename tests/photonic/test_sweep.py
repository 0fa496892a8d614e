"""The adjoint engine's sweep written out as code: one line pair per gate, written once, readable in tracebacks.

Its numbers are judged in ``test_adjoint`` (the general engine, finite differences, gradcheck)."""

from __future__ import annotations

import linecache

import torch

from qvec.circuit.parameters import ParameterStack
from qvec.photonic import Circuit, adjoint
from qvec.photonic.sweep import sweep_functions


def gan_like() -> tuple[Circuit, ParameterStack]:
    """Per-row displacements on the vacuum, then shared BS, S, R, K and D: R and K fold into S and D."""
    circuit = Circuit(2).d(0, "z0", 0.0).d(1, "z1", 0.0)
    circuit.bs(0, 1, "t", "p").s(0, "r", 0.0).r(0, "q").s(1, "r", 0.1).k(1, "k").d(0, "a", 0.0)
    rows = 0.2 * torch.randn(3, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    weights = torch.tensor([0.4, 0.1, 0.2, 0.3, 0.05, 0.1], dtype=torch.float64)
    return circuit, ParameterStack((["t", "p", "r", "q", "k", "a"], weights), (["z0", "z1"], rows))


def the_plan(circuit: Circuit, stack: ParameterStack) -> adjoint.Plan:
    circuit.run(stack, cutoff=5, dtype=torch.complex128, truncation_tol=1.0)
    (plan,) = [p for key, p in adjoint._PLANS[circuit].items() if key[0] != "supports"]
    return plan


def test_the_written_sweep_is_straight_line_with_one_line_pair_per_kept_gate() -> None:
    circuit, stack = gan_like()
    plan = the_plan(circuit, stack)
    source = sweep_functions(plan).source
    forward, backward = source.split("def backward")
    assert not any(line.lstrip().startswith(("for ", "while ", "if ")) for line in source.splitlines())
    assert len(plan.gates) == 6  # R and K folded into their neighbouring S
    assert forward.count("    s = ") == len(plan.gates) and forward.count("    x") == len(plan.gates)
    assert backward.count("    G_") - backward.count(" = grads[") == len(plan.gates) + 2  # + the 2 fresh columns
    assert backward.count("    p = np.") == len(plan.gates) - 1  # the first gate's input is the constant start
    assert "S_r" not in backward and "S_k" not in backward  # kinds folded away whole are not read


def test_the_written_lines_are_what_a_traceback_shows_and_are_written_once() -> None:
    circuit, stack = gan_like()
    plan = the_plan(circuit, stack)
    sweep = sweep_functions(plan)
    filename = sweep.forward.__code__.co_filename
    assert [linecache.getline(filename, k).rstrip("\n") for k in (1, 2)] == sweep.source.splitlines()[:2]
    assert sweep_functions(plan) is sweep
