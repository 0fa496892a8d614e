"""Angles of gates and the parameter values of a batch.

An angle is a float, a parameter name, or a tensor (a scalar shared by the batch, or a 1-D
tensor with one value per row); qubit circuits also take a ``ScaledParameter`` (``-theta``,
as ``Circuit.inverse`` writes). Values may be given as numbers, lists, numpy arrays or tensors;
``as_value_tensor`` turns them into tensors in one place. ``bind_parameters`` checks a
``params`` mapping against a circuit and fixes the batch size B. A ``ParameterStack`` gives many
values as the columns of a few tensors, so that an engine binds them by one gather.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from functools import lru_cache
from typing import ItemsView, Iterable, Iterator, Mapping, Sequence, Union, ValuesView

import numpy as np
import torch

from qvec.errors import InputError

__all__ = [
    "Angle", "ParameterBatch", "ParameterStack", "ScaledParameter", "angle_key", "as_value_tensor", "bind_parameters",
    "check_all_finite", "check_angle", "scale_angle",
]


@dataclass(frozen=True)
class ScaledParameter:
    """A named parameter times a constant (``-theta`` in an inverted circuit): its value is ``scale * params[name]``."""

    name: str
    scale: float

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.isidentifier():
            raise InputError(f"parameter name {self.name!r} is not an identifier")
        if isinstance(self.scale, bool) or not isinstance(self.scale, numbers.Real) or not math.isfinite(self.scale):
            raise InputError(f"the scale of parameter {self.name!r} must be a finite number, got {self.scale!r}")
        object.__setattr__(self, "scale", float(self.scale) + 0.0)

    def __str__(self) -> str:
        return f"-{self.name}" if self.scale == -1 else f"{self.scale:.6g}*{self.name}"


Angle = Union[float, str, ScaledParameter, torch.Tensor]
ParamValue = Union[float, int, Sequence[float], np.ndarray, torch.Tensor]


def scale_angle(angle: Angle, factor: float) -> Angle:
    """``factor * angle`` in the angle's own kind: a number, a (scaled) parameter, or a tensor (gradients flow)."""
    if isinstance(angle, str):
        return angle if factor == 1 else ScaledParameter(angle, factor)
    if isinstance(angle, ScaledParameter):
        scale = angle.scale * factor
        return angle.name if scale == 1 else ScaledParameter(angle.name, scale)
    return angle * factor


def as_value_tensor(value: object, what: str) -> torch.Tensor:
    """A number, a list of numbers, a numpy array or a tensor as a tensor; ``what`` names it in errors.

    Python and numpy numbers become float64 scalars, lists and arrays float64 (float arrays keep
    their precision); tensors pass unchanged, so that gradients flow.
    """
    if isinstance(value, torch.Tensor):
        return value
    if isinstance(value, (bool, np.bool_)):
        raise InputError(f"{what} must be a number, a list or array of numbers, or a tensor, got {value!r}")
    if isinstance(value, numbers.Real):
        return torch.tensor(float(value), dtype=torch.float64)
    if isinstance(value, (list, tuple, np.ndarray)):
        try:
            array = np.asarray(value)
        except ValueError as exc:  # ragged nesting
            raise InputError(f"{what} is not a rectangular list of numbers ({exc})") from None
        if array.dtype.kind not in "iuf":
            raise InputError(f"{what} must hold real numbers, got {_describe(value, array)}")
        return torch.tensor(array if array.dtype.kind == "f" else array.astype(np.float64))
    raise InputError(f"{what} must be a number, a list or array of numbers, or a tensor, got {type(value).__name__}")


def _describe(value: object, array: np.ndarray) -> str:
    if isinstance(value, np.ndarray):
        return f"a numpy array of dtype {array.dtype}"
    return f"{_first_non_number(value)!r} in a {type(value).__name__}"


def _first_non_number(value: object) -> object:
    """The first entry of nested lists that is not a real number (bools count as not)."""
    if isinstance(value, (list, tuple, np.ndarray)):
        return next((bad for v in value if (bad := _first_non_number(v)) is not None), None)
    return value if isinstance(value, bool) or not isinstance(value, numbers.Real) else None


def _check_tensor(value: torch.Tensor, what: str, finite: bool = True) -> torch.Tensor:
    """Check a scalar or 1-D real tensor of finite angles; integer tensors become float64."""
    if value.dim() <= 1 and value.is_floating_point():
        if finite:
            _check_finite(value, what)
        return value
    if value.dim() > 1:
        raise InputError(f"{what} must be a scalar or a 1-D tensor of per-row values, got shape {tuple(value.shape)}")
    if value.is_complex() or not (value.is_floating_point() or value.dtype in (torch.int32, torch.int64)):
        raise InputError(f"{what} must be a real tensor, got dtype {value.dtype}")
    if finite:
        _check_finite(value, what)
    return value if value.is_floating_point() else value.to(torch.float64)


def _check_finite(value: torch.Tensor, what: str) -> None:
    bad = ~torch.isfinite(value.detach())
    if bool(bad.any()):
        row = int(bad.reshape(-1).nonzero()[0])
        where = f" at row {row}" if value.dim() == 1 else ""
        raise InputError(f"{what} is {value.detach().reshape(-1)[row].item()}{where}; angles must be finite")


def check_all_finite(values: Mapping[str, torch.Tensor]) -> None:
    """One vectorized finiteness check per device and rank; the per-parameter check only runs to name a culprit.

    Engines that stack the values anyway may bind with ``check_finite=False`` and call this only
    when their stacked angles are not all finite, to raise the same message.
    """
    groups: dict[tuple[torch.device, int], list[torch.Tensor]] = {}
    for value in values.values():
        groups.setdefault((value.device, value.dim()), []).append(value)
    with torch.no_grad():
        finite = all(bool(torch.isfinite(torch.stack(group) if dim == 0 else torch.cat(group)).all())
                     for (_, dim), group in groups.items())
    if finite:
        return
    for name, value in values.items():
        _check_finite(value, f"parameter {name!r}")


def check_angle(value: Angle, what: str) -> Angle:
    """Validate one gate angle; ``what`` names it in the error (e.g. "angle 0 of rx on qubit 2")."""
    if isinstance(value, bool):
        raise InputError(f"{what} must be a number, a parameter name or a tensor, got {value!r}")
    if isinstance(value, str):
        if not value.isidentifier():
            raise InputError(f"{what}: parameter name {value!r} is not an identifier")
        return value
    if isinstance(value, numbers.Real):
        if not math.isfinite(value):
            raise InputError(f"{what} is {value}; angles must be finite")
        return float(value)
    if isinstance(value, (torch.Tensor, list, tuple, np.ndarray)):
        return _check_tensor(as_value_tensor(value, what), what)
    raise InputError(f"{what} must be a number, a parameter name or a tensor, got {type(value).__name__}")


def angle_key(value: Angle) -> object:
    """A hashable, comparable stand-in for an angle (tensors by their values; -0.0 is 0.0)."""
    if isinstance(value, torch.Tensor):
        return ("tensor", tuple(value.shape), tuple(v + 0.0 for v in value.detach().cpu().reshape(-1).tolist()))
    if isinstance(value, ScaledParameter):
        return ("scaled", value.name, value.scale)
    return value + 0.0 if isinstance(value, float) else value


def _span(names: Sequence[str]) -> str:
    return repr(names[0]) if len(names) == 1 else f"{names[0]!r} .. {names[-1]!r} ({len(names)} names)"


def _stack_values(values: object, names: tuple[str, ...]) -> torch.Tensor:
    """A group's values as a tensor (a tensor as it is: the error's wording is only made for other values)."""
    if isinstance(values, torch.Tensor):
        return values
    return as_value_tensor(values, f"the values of parameters {_span(names)}")


def _check_stack(values: torch.Tensor, names: tuple[str, ...]) -> torch.Tensor:
    """A group's values, checked: ``[P]`` or ``[B, P]`` for its ``P`` names, real (integers become float64)."""
    width = len(names)
    if values.dim() not in (1, 2) or values.shape[-1] != width:
        raise InputError(f"the values of parameters {_span(names)} must have shape [{width}] (shared by the batch) "
                         f"or [B, {width}] (one row each), got shape {tuple(values.shape)}")
    if values.is_floating_point():
        return values
    if values.dtype in (torch.int32, torch.int64):
        return values.to(torch.float64)
    raise InputError(f"the values of parameters {_span(names)} must be a real tensor, got dtype {values.dtype}")


@lru_cache(maxsize=256)
def _name_index(groups: tuple[tuple[str, ...], ...]) -> dict[str, tuple[int, int]]:
    """Each name's (group, column), the names checked: kept per names, as a layer passes the same ones every step
    (the dict is shared by the stacks made with these names: read it, never change it)."""
    where: dict[str, tuple[int, int]] = {}
    for group, names in enumerate(groups):
        if not names or not all(isinstance(name, str) for name in names):
            raise InputError(f"a ParameterStack group needs a non-empty list of parameter names, got {names!r}")
        for column, name in enumerate(names):
            if name in where:
                raise InputError(f"parameter {name!r} is given twice in a ParameterStack")
            where[name] = (group, column)
    return where


class ParameterStack(Mapping[str, torch.Tensor]):
    """Values of many parameters as the last axis of a few tensors, bound by one gather (one autograd node)
    instead of one scalar per name.

    Each group pairs names with values ``[len(names)]`` (shared by the batch) or ``[B, len(names)]`` (one
    row each). As a mapping it gives each name its column (``[]`` or ``[B]``), so anything that takes a
    ``params`` dict takes it; the local engine reads the groups whole.
    """

    def __init__(self, *groups: tuple[Sequence[str], ParamValue]) -> None:
        keys = tuple(tuple(names) for names, _ in groups)
        try:
            self._where = _name_index(keys)
        except TypeError:  # an unhashable name: the uncached check refuses it
            self._where = _name_index.__wrapped__(keys)
        self.groups = tuple((names, _check_stack(_stack_values(values, names), names))
                            for names, (_, values) in zip(keys, groups))
        self._columns: dict[str, torch.Tensor] | None = None

    def locate(self, name: str) -> tuple[int, int]:
        """(group, column) of ``name``."""
        return self._where[name]

    def columns(self) -> dict[str, torch.Tensor]:
        """Every name's column, from one ``unbind`` per group (made on first use, then kept)."""
        if self._columns is None:
            self._columns = {name: column for names, values in self.groups
                             for name, column in zip(names, values.unbind(-1))}
        return self._columns

    def __getitem__(self, name: str) -> torch.Tensor:
        return self.columns()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._where)

    def __len__(self) -> int:
        return len(self._where)

    def __contains__(self, name: object) -> bool:
        return name in self._where

    def values(self) -> ValuesView[torch.Tensor]:
        return self.columns().values()

    def items(self) -> ItemsView[str, torch.Tensor]:
        return self.columns().items()

    def __repr__(self) -> str:
        return "ParameterStack(" + ", ".join(f"{_span(n)}: {tuple(v.shape)}" for n, v in self.groups) + ")"


# A stacked group as an engine reads it: its names and values [P] or [B, P].
Stack = tuple[tuple[str, ...], torch.Tensor]


@dataclass(frozen=True)
class ParameterBatch:
    """Checked parameter values: 0-d tensors are shared by the batch, 1-D tensors have B rows.

    ``stacks`` are the groups of a ``ParameterStack`` (their columns are in ``values`` too), so that an
    engine may gather the angles of many gates from them at once.
    """

    batch_size: int
    values: Mapping[str, torch.Tensor]
    stacks: tuple[Stack, ...] = ()

    def is_shared(self, name: str) -> bool:
        return self.values[name].dim() == 0

    def row_names(self) -> set[str]:
        """The names with one value per row."""
        return {name for name, value in self.values.items() if value.dim() == 1}


def _batch_size(lengths: dict[str, int]) -> int:
    distinct = sorted(set(lengths.values()))
    if len(distinct) > 1:
        listing = ", ".join(f"{name!r} has {n}" for name, n in lengths.items())
        raise InputError(f"per-row parameters must all have the same number of rows: {listing}")
    return distinct[0] if distinct else 1


def _check_names(names: list[str], params: Mapping[str, object]) -> None:
    known_names = set(names)
    unknown = [name for name in params if name not in known_names]
    if unknown:
        known = ", ".join(names) or "none"
        raise InputError(f"unknown parameter {unknown[0]!r}; the circuit's parameters are: {known}")
    missing = [name for name in names if name not in params]
    if missing:
        raise InputError(f"missing value for parameter {missing[0]!r}")


def _check_stacks_finite(stack: ParameterStack) -> None:
    """One check per group; the columns are only read to name a culprit."""
    for names, values in stack.groups:
        if not bool(torch.isfinite(values.detach()).all()):
            check_all_finite({name: stack[name] for name in names})


def bind_parameters(
    names: Iterable[str],
    params: Mapping[str, ParamValue] | None,
    tensor_angles: Iterable[torch.Tensor] = (),
    *,
    check_finite: bool = True,
) -> ParameterBatch:
    """Check ``params`` against the circuit's parameter ``names`` and fix the batch size.

    ``tensor_angles`` are the tensors written into gates directly; 1-D ones count as per-row.
    A ``ParameterStack`` is checked group by group, not name by name, and its groups travel along.
    """
    names = list(dict.fromkeys(names))
    if params is not None and not isinstance(params, Mapping):
        raise InputError(f"params must map parameter names to values, such as {{'theta': [0.1, 0.2]}}, "
                         f"got a {type(params).__name__}")
    if isinstance(params, ParameterStack):
        _check_names(names, params)
        if check_finite:
            _check_stacks_finite(params)
        columns = params.columns()
        values = {name: columns[name] for name in names}
        stacks = params.groups
        lengths = {n[0]: int(v.shape[0]) for n, v in stacks if v.dim() == 2}
    else:
        params = dict(params or {})
        _check_names(names, params)
        values = {}
        for name in names:
            tensor = as_value_tensor(params[name], f"parameter {name!r}")
            values[name] = _check_tensor(tensor, f"parameter {name!r}", finite=False)
        if check_finite:
            check_all_finite(values)
        stacks = ()
        lengths = {name: int(v.shape[0]) for name, v in values.items() if v.dim() == 1}
    lengths.update({f"tensor angle #{i}": int(t.shape[0]) for i, t in enumerate(tensor_angles) if t.dim() == 1})
    return ParameterBatch(_batch_size(lengths), values, stacks)
