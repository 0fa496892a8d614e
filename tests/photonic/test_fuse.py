"""Fusion is an optimization only: fused and unfused step lists give the same state."""

import pytest
import torch

from qvec.photonic import matrices
from qvec.photonic.apply import apply_diagonal, apply_operator
from qvec.photonic.fuse import Step, fuse

C = 5
F64 = dict(dtype=torch.float64)


def _t(*values):
    return torch.tensor(values, **F64)


def _steps(per_row: int):
    z = torch.linspace(0.1, 0.5, per_row, **F64)
    return [
        Step("dense", (0,), matrices.displacement(z, z, C, torch.complex128)),
        Step("diagonal", (1,), matrices.kerr(_t(0.3), C, torch.complex128)),
        Step("dense", (1, 0), matrices.beamsplitter(_t(0.4), _t(0.2), C, torch.complex128)),
        Step("diagonal", (0,), matrices.rotation(_t(0.7), C, torch.complex128)),
        Step("dense", (0,), matrices.squeezing(_t(0.2), _t(0.1), C, torch.complex128)),
        Step("dense", (2,), matrices.displacement(_t(0.3), _t(0.0), C, torch.complex128)),
        Step("diagonal", (2, 1), matrices.cross_kerr(_t(0.2), C, torch.complex128)),
        Step("dense", (1, 2), matrices.two_mode_squeezing(_t(0.1), _t(0.3), C, torch.complex128)),
        Step("diagonal", (2,), matrices.kerr(z, C, torch.complex128)),
    ]


def _run(steps, state):
    for step in steps:
        apply = apply_diagonal if step.form == "diagonal" else apply_operator
        state = apply(state, step.tensor, [1 + m for m in step.modes])
    return state


@pytest.mark.parametrize("two_mode", [False, True])
@pytest.mark.parametrize("per_row", [1, 3])
def test_fused_steps_give_the_same_state(two_mode, per_row):
    state = torch.randn(per_row, C, C, C, dtype=torch.complex128, generator=torch.Generator().manual_seed(0))
    steps = _steps(per_row)
    fused = fuse(steps, two_mode=two_mode)
    assert len(fused) < len(steps)
    assert torch.allclose(_run(fused, state), _run(steps, state), atol=1e-12)


def test_apply_operator_matches_einsum_on_reordered_axes():
    """Operator indices (out 1, out 2, in 1, in 2) land on axes (3, 1), in that order."""
    state = torch.randn(2, 3, 4, 3, dtype=torch.complex128)
    operator = torch.randn(1, 3, 3, 3, 3, dtype=torch.complex128)
    out = apply_operator(state, operator, [3, 1])
    expected = torch.einsum("qpsr,brxs->bpxq", operator[0], state)
    assert torch.allclose(out, expected, atol=1e-12)


def test_steps_commute_past_blocks_on_other_modes():
    bs = matrices.beamsplitter(_t(0.4), _t(0.2), C, torch.complex128)
    steps = [Step("dense", (0, 1), bs), Step("dense", (1, 2), bs),
             Step("diagonal", (0,), matrices.rotation(_t(0.7), C, torch.complex128)),
             Step("dense", (2,), matrices.squeezing(_t(0.2), _t(0.1), C, torch.complex128))]
    fused = fuse(steps, two_mode=True)
    assert [step.modes for step in fused] == [(0, 1), (1, 2)]
    state = torch.randn(2, C, C, C, dtype=torch.complex128, generator=torch.Generator().manual_seed(1))
    assert torch.allclose(_run(fused, state), _run(steps, state), atol=1e-12)
