"""The worker side of the Dask backend, without a cluster: templates, shards of rows, and VJPs against autograd."""

import warnings

import pytest
import torch

import qvec
from qvec.backends import LocalBackend, LocalPhotonicBackend
from qvec.backends.dask.backend import _warn_again
from qvec.backends.dask.shards import Call, Template, row_bounds, run_shard, split_batch, vjp_shard
from qvec.circuit.parameters import ParameterStack

F64 = torch.complex128


def circuit_with_tensor_angles():
    shared = torch.tensor(0.7, dtype=torch.float64, requires_grad=True)
    per_row = torch.linspace(0.1, 0.5, 5, dtype=torch.float64).requires_grad_()
    c = qvec.Circuit(2)
    c.ry(0, "a"); c.rx(1, shared); c.cx(0, 1); c.rz(1, per_row); c.ry(0, shared)
    return c, shared, per_row


def test_tensor_angles_become_named_values_and_the_template_has_none():
    c, shared, per_row = circuit_with_tensor_angles()
    a = torch.linspace(-1, 1, 5, dtype=torch.float64)
    template, layout, tensors = split_batch(c, {"a": a})
    assert template.tensor_angles() == [] and len(template) == len(c)
    assert layout.names == (("a",), ("dask_tensor_angle_0",), ("dask_tensor_angle_1",))  # `shared` named once
    assert layout.per_row == (True, False, True) and layout.batch_size == 5 and not layout.stacked
    assert tensors[1] is shared and tensors[2] is per_row
    torch.testing.assert_close(LocalBackend().expval(template, ["Z0", "Z1"], layout.params(tensors), dtype=F64),
                               LocalBackend().expval(c, ["Z0", "Z1"], {"a": a}, dtype=F64))


def test_a_parameter_stack_stays_a_stack_and_shards_copy_only_their_rows():
    c = qvec.Circuit(2)
    c.ry(0, "x0"); c.ry(1, "x1"); c.cx(0, 1); c.rz(0, "w0"); c.rx(1, torch.tensor(0.2))
    x, w = torch.randn(10, 2, dtype=torch.float64), torch.randn(1, dtype=torch.float64)
    _, layout, tensors = split_batch(c, ParameterStack((["x0", "x1"], x), (["w0"], w)))
    assert layout.stacked and layout.per_row == (True, False, False)
    shard = layout.shard(tensors, 4, 7)
    assert torch.equal(shard[0], x[4:7]) and shard[0].untyped_storage().nbytes() == 3 * 2 * 8
    assert isinstance(layout.params(shard), ParameterStack)


def test_row_bounds_cover_every_row_once_in_order():
    assert row_bounds(10, 4) == [(0, 4), (4, 8), (8, 10)]
    assert row_bounds(1, 4) == [(0, 1)]


def test_shards_and_their_vjps_add_up_to_the_whole_batch_under_autograd():
    c, shared, per_row = circuit_with_tensor_angles()
    a = torch.linspace(-1, 1, 5, dtype=torch.float64).requires_grad_()
    template, layout, tensors = split_batch(c, {"a": a})
    call = Call("expval", (["Z0", "X1"],), {"dtype": F64, "device": None})
    grad_output = torch.randn(5, 2, dtype=torch.float64)
    shards = row_bounds(5, 2)
    values = torch.cat([run_shard(Template(template, LocalBackend()), call, layout,
                                  layout.shard(tensors, *bounds)).tensor for bounds in shards])
    vjps = [vjp_shard(Template(template, LocalBackend()), call, layout, layout.shard(tensors, *bounds),
                      (True, True, True), grad_output[slice(*bounds)]) for bounds in shards]
    expected = c.expval(["Z0", "X1"], params={"a": a}, dtype=F64)
    expected.backward(grad_output)
    torch.testing.assert_close(values, expected.detach())
    torch.testing.assert_close(torch.cat([v[0] for v in vjps]), a.grad)  # per-row: joined
    torch.testing.assert_close(sum(v[1] for v in vjps), shared.grad)  # shared: summed over shards
    torch.testing.assert_close(torch.cat([v[2] for v in vjps]), per_row.grad)


def test_a_shard_brings_back_its_warnings_and_its_photonic_state():
    c = qvec.photonic.Circuit(1)
    c.d(0, "r", 0.0)
    template, layout, tensors = split_batch(c, {"r": torch.tensor([0.1, 2.0], dtype=torch.float64)})
    call = Call("run_photonic", (), {"cutoff": 3, "dtype": F64, "device": None, "renormalize": False,
                                     "truncation_tol": None})
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the shard's warnings are recorded, not given on the worker
        output = run_shard(Template(template, LocalPhotonicBackend()), call, layout, tensors)
    assert output.state == {"n_modes": 1, "cutoff": 3, "pure": True, "hbar": 2.0}
    assert [category for category, _ in output.warnings] == [qvec.photonic.TruncationWarning]
    assert output.tensor.shape == (2, 3)


def test_a_workers_warning_is_given_again_to_the_caller():
    with pytest.warns(RuntimeWarning, match="^careful$"):
        _warn_again(RuntimeWarning, "careful")
    with pytest.warns(UserWarning, match="^TruncationWarning: lost norm$"):  # its class needs two arguments
        _warn_again(qvec.photonic.TruncationWarning, "lost norm")
