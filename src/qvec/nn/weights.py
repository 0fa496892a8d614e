"""What both layers share: checking a circuit's input and weight names, seeded weight initialisation,
and binding a batch of inputs from the last axis of ``x`` with the weights."""

from __future__ import annotations

import math
from collections import Counter
from typing import Sequence, Union

import torch

from qvec.circuit.parameters import ParameterStack
from qvec.errors import InputError

__all__ = ["Init", "check_names", "flatten_inputs", "initial_weights", "layer_parameters"]

# ``init`` is the name of a distribution or the initial values themselves.
Init = Union[str, Sequence[float], torch.Tensor]
INIT_NAMES = ("uniform", "normal")


def _name_list(names: Sequence[str], what: str) -> list[str]:
    if isinstance(names, str) or not isinstance(names, Sequence) or not all(isinstance(n, str) for n in names):
        raise InputError(f"{what} must be a list of parameter names, such as ['w0', 'w1'], got {names!r}")
    repeated = [n for n, count in Counter(names).items() if count > 1]
    if repeated:
        raise InputError(f"{what} name parameter {repeated[0]!r} twice")
    return list(names)


def check_names(parameters: Sequence[str], inputs: Sequence[str], weights: Sequence[str]) -> tuple[list[str], list[str]]:
    """The input and weight names, checked: distinct, each a parameter of the circuit, every parameter fed."""
    inputs, weights = _name_list(inputs, "inputs"), _name_list(weights, "weights")
    shared = sorted(set(inputs) & set(weights))
    if shared:
        raise InputError(f"parameter {shared[0]!r} is named both in inputs and in weights; it must be one or the other")
    known = set(parameters)
    unknown = [n for n in [*inputs, *weights] if n not in known]
    if unknown:
        raise InputError(f"parameter {unknown[0]!r} is not in the circuit; its parameters are: "
                         f"{', '.join(parameters) or 'none'}")
    fed = set(inputs) | set(weights)
    missing = [n for n in parameters if n not in fed]
    if missing:
        raise InputError(f"the circuit's parameter {missing[0]!r} is neither an input nor a weight: "
                         "name it in inputs=[...] or weights=[...]")
    return inputs, weights


def initial_weights(count: int, init: Init, seed: int | None, dtype: torch.dtype, *, std: float) -> torch.Tensor:
    """``count`` initial weights: ``"uniform"`` on [0, 2 pi), ``"normal"`` with standard deviation ``std``,
    or the values given; the same ``seed`` gives the same weights."""
    if isinstance(init, str):
        if init not in INIT_NAMES:
            raise InputError(f"unknown init {init!r}; accepted: {', '.join(map(repr, INIT_NAMES))} or the initial values")
        generator = torch.Generator()
        if seed is None:
            generator.seed()
        else:
            generator.manual_seed(seed)
        if init == "uniform":
            return torch.rand(count, generator=generator, dtype=torch.float64).mul_(2 * math.pi).to(dtype)
        return torch.randn(count, generator=generator, dtype=torch.float64).mul_(std).to(dtype)
    values = torch.as_tensor(init, dtype=dtype).detach().clone()
    if values.shape != (count,):
        raise InputError(f"init values must have shape ({count},), one per weight, got shape {tuple(values.shape)}")
    if not bool(torch.isfinite(values).all()):
        raise InputError("init values must be finite")
    return values


def flatten_inputs(x: torch.Tensor | None, names: Sequence[str], real: torch.dtype,
                   device: torch.device) -> tuple[torch.Size, torch.Tensor | None]:
    """The leading batch shape of ``x`` ``[..., len(names)]``, and ``x`` as rows ``[B, len(names)]`` (None without inputs)."""
    if x is None:
        if names:
            raise InputError(f"the layer takes inputs {list(names)}: call it with x of shape [..., {len(names)}]")
        return torch.Size(), None
    if not isinstance(x, torch.Tensor):
        x = torch.as_tensor(x)
    if x.dim() == 0 or x.shape[-1] != len(names):
        raise InputError(f"x must have last dimension {len(names)} (one value per input {list(names)}), "
                         f"got shape {tuple(x.shape)}")
    if x.is_complex() or not (x.is_floating_point() or x.dtype in (torch.int32, torch.int64)):
        raise InputError(f"x must be a real tensor, got dtype {x.dtype}")
    leading = x.shape[:-1]
    if math.prod(leading) == 0:
        raise InputError(f"x has an empty batch (shape {tuple(x.shape)}): give at least one row")
    if not names:
        return leading, None
    if x.dtype != real or x.device != device:
        x = x.to(device=device, dtype=real)
    return leading, x if x.dim() == 2 else x.reshape(-1, len(names))


def layer_parameters(x: torch.Tensor | None, inputs: Sequence[str], weight_names: Sequence[str],
                     weights: torch.Tensor) -> tuple[torch.Size, ParameterStack]:
    """The leading batch shape of ``x`` and the circuit's parameter values: ``weights`` whole and the
    inputs as rows ``[B, len(inputs)]``, in a ``ParameterStack`` that the engine binds by one gather."""
    leading, rows = flatten_inputs(x, inputs, weights.dtype, weights.device)
    groups = [(weight_names, weights)] if weight_names else []
    if rows is not None:
        groups.append((inputs, rows))
    return leading, ParameterStack(*groups)
