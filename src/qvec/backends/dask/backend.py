"""``DaskBackend``: a batch split into shards of parameter rows, each run by a Dask worker's local backend.

Per batch the circuit travels once to every worker (``client.scatter(..., broadcast=True)``), each
shard is one task that names it, and the results are gathered in input order. Gradients: the
results carry one autograd node whose backward ships the incoming gradient, shard by shard, to the
workers, which run their rows forward again under autograd and return the vector-Jacobian products.
A task whose worker dies is recomputed by Dask's scheduler (up to its ``allowed-failures``), so no
row is lost or counted twice.
"""

from __future__ import annotations

import asyncio
import math
import warnings
import weakref
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import torch

from qvec.backends.base import DifferentiatesNatively, RunsPhotonicBatches, RunsQubitBatches
from qvec.backends.local import LocalBackend, LocalPhotonicBackend
from qvec.circuit.parameters import ParamValue
from qvec.errors import BackendError, InputError

from .shards import Call, ShardOutput, Template, ValueLayout, row_bounds, run_shard, split_batch, vjp_shard

try:
    import distributed
except ImportError:
    raise BackendError("the Dask backend needs Dask distributed: pip install 'qvec[dask]'") from None

__all__ = ["DEFAULT_CONNECT_TIMEOUT_S", "DEFAULT_WORKER_TIMEOUT_S", "DaskBackend", "connect"]

Params = Mapping[str, ParamValue] | None

DEFAULT_CONNECT_TIMEOUT_S = 10.0
# An adaptive cluster (dask-jobqueue, Kubernetes) may have no worker yet when a batch arrives.
DEFAULT_WORKER_TIMEOUT_S = 60.0


class DaskBackend(RunsQubitBatches, RunsPhotonicBatches, DifferentiatesNatively):
    """Shards each batch over the workers of a Dask ``client``; results and gradients equal the local backend's.

    ``inner`` is the backend every worker runs its shards on (``None``: the local qubit or photonic
    simulator); it must differentiate natively, since gradients are taken on the workers. ``shard_size`` is
    the number of rows per task (``None``: the batch split evenly over the cluster's worker threads).
    ``device`` is where the workers compute (``None``: the device each call asks for); results come back to
    the device the call asks for. Seeded samples are reproducible for a given shard size, but are not the
    local simulator's draws (each shard draws from its own seed).
    """

    name = "dask"

    def __init__(self, client: distributed.Client, inner: Any = None, shard_size: int | None = None, *,
                 device: Any = None, worker_timeout_s: float = DEFAULT_WORKER_TIMEOUT_S) -> None:
        if not isinstance(client, distributed.Client):
            raise InputError(f"DaskBackend takes a dask.distributed.Client, got {type(client).__name__} "
                             "(qvec.backends.dask.connect(address) makes one from a scheduler address)")
        if inner is not None and not (isinstance(inner, (RunsQubitBatches, RunsPhotonicBatches))
                                      and isinstance(inner, DifferentiatesNatively)):
            raise InputError(f"inner={inner!r} must be a backend that runs batches and differentiates natively "
                             "(the workers take gradients with it), such as qvec.backends.LocalBackend()")
        if isinstance(inner, DaskBackend):
            raise InputError("inner must run on the worker itself, not be another DaskBackend")
        if shard_size is not None and (isinstance(shard_size, bool) or not isinstance(shard_size, int)
                                       or shard_size < 1):
            raise InputError(f"shard_size must be a positive integer or None, got {shard_size!r}")
        if not worker_timeout_s > 0:
            raise InputError(f"worker_timeout_s must be positive, got {worker_timeout_s!r}")
        self.client, self.inner, self.shard_size = client, inner, shard_size
        self.device, self.worker_timeout_s = device, float(worker_timeout_s)
        self._local, self._local_photonic = LocalBackend(), LocalPhotonicBackend()
        # The last circuit's template on the cluster: a training loop ships its circuit once, and the workers
        # keep one unpickled circuit, so that their engine's plan cache (keyed by the object) hits.
        self._scattered: tuple[weakref.ref, tuple, distributed.Future] | None = None

    # -- the backend protocol ---------------------------------------------------------------
    def probs(self, circuit: Any, params: Params, *, dtype: torch.dtype = torch.complex64,
              device: Any = None) -> torch.Tensor:
        return self._run(circuit, params, "probs", (), {"dtype": dtype}, device)

    def expval(self, circuit: Any, observables: Sequence[str], params: Params, *,
               dtype: torch.dtype = torch.complex64, device: Any = None) -> torch.Tensor:
        return self._run(circuit, params, "expval", (list(observables),), {"dtype": dtype}, device)

    def sample(self, circuit: Any, shots: int, params: Params, *, seed: int | None = None,
               dtype: torch.dtype = torch.complex64, device: Any = None) -> torch.Tensor:
        with torch.no_grad():  # samples carry no gradient
            return self._run(circuit, params, "sample", (shots,), {"dtype": dtype, "seed": seed}, device)

    def run_photonic(self, circuit: Any, params: Params, *, cutoff: int | None = None,
                     dtype: torch.dtype = torch.complex64, device: Any = None, renormalize: bool = False,
                     truncation_tol: float | None = None) -> Any:
        from qvec.photonic.simulate import DEFAULT_TRUNCATION_TOL
        from qvec.photonic.state import FockState
        from qvec.photonic.truncation import check_truncation
        # Truncation is checked here, on the whole batch, so that the warning counts and names rows as a local run.
        options = {"cutoff": cutoff, "dtype": dtype, "renormalize": False, "truncation_tol": math.inf}
        tensor, state = self._run(circuit, params, "run_photonic", (), options, device, photonic=True)
        tol = DEFAULT_TRUNCATION_TOL if truncation_tol is None else truncation_tol
        return check_truncation(FockState(tensor, **state), tol, renormalize=renormalize)

    def __repr__(self) -> str:
        inner = "" if self.inner is None else f", inner={self.inner!r}"
        size = "" if self.shard_size is None else f", shard_size={self.shard_size}"
        return f"DaskBackend(scheduler={self.client.scheduler.address!r}{inner}{size})"

    # -- running a batch --------------------------------------------------------------------
    def _run(self, circuit: Any, params: Params, method: str, before_params: tuple, options: dict[str, Any],
             device: Any, photonic: bool = False) -> Any:
        template, layout, tensors = split_batch(circuit, params)
        inner = self._inner(photonic)
        worker_device = self.device if self.device is not None else device
        bounds = row_bounds(layout.batch_size, self._shard_size(layout.batch_size))
        calls = _calls(Call(method, before_params, {**options, "device": worker_device}), len(bounds))
        batch = _ShardedBatch(self.client, self._template_on_cluster(circuit, template, inner), calls, layout,
                              bounds, device)
        tensor = _ShardedRun.apply(batch, *tensors) if _records_gradients(tensors) else batch.forward(tensors)
        return (tensor, batch.state) if photonic else tensor

    def _inner(self, photonic: bool) -> Any:
        if self.inner is None:
            return self._local_photonic if photonic else self._local
        wanted = RunsPhotonicBatches if photonic else RunsQubitBatches
        if not isinstance(self.inner, wanted):
            raise InputError(f"this DaskBackend's inner backend {self.inner!r} does not run "
                             f"{'photonic' if photonic else 'qubit'} batches")
        return self.inner

    def _shard_size(self, batch_size: int) -> int:
        if self.shard_size is not None:
            return self.shard_size
        return math.ceil(batch_size / self._worker_threads())

    def _worker_threads(self) -> int:
        """The cluster's worker threads now, waiting ``worker_timeout_s`` for a first worker if there is none."""
        threads = sum(self.client.nthreads().values())
        if threads:
            return threads
        try:
            self.client.wait_for_workers(1, timeout=self.worker_timeout_s)
        except TimeoutError:
            raise BackendError(f"no Dask worker joined the scheduler at {self.client.scheduler.address} within "
                               f"{self.worker_timeout_s:g} s: start workers (dask worker ADDRESS)") from None
        return sum(self.client.nthreads().values())

    def _template_on_cluster(self, circuit: Any, template: Any, inner: Any) -> distributed.Future:
        """The template scattered to every worker: the one kept from the last batch if it ran ``circuit`` (the
        same object, as long) on ``inner`` and the cluster still holds it, else a new scatter."""
        key = (len(circuit), id(inner))
        if self._scattered is not None:
            circuit_ref, kept_key, future = self._scattered
            if circuit_ref() is circuit and kept_key == key and future.status == "finished":
                return future
        future = self.client.scatter(Template(template, inner), broadcast=True, hash=False)
        self._scattered = (weakref.ref(circuit), key, future)
        return future


def _calls(call: Call, shards: int) -> list[Call] | Call:
    """One call for every shard, or, when sampling with a seed, one per shard with its own seed drawn from it."""
    seed = call.options.get("seed")
    if call.method != "sample" or seed is None:
        return call
    seeds = torch.randint(0, 2**62, (shards,), generator=torch.Generator().manual_seed(seed))
    return [Call(call.method, call.before_params, {**call.options, "seed": int(s)}) for s in seeds]


def _records_gradients(tensors: Sequence[torch.Tensor]) -> bool:
    return torch.is_grad_enabled() and any(t.requires_grad for t in tensors)


@dataclass
class _ShardedBatch:
    """One batch on the cluster: the scattered template, the call of each shard, and where its rows lie."""

    client: distributed.Client
    template: distributed.Future
    calls: list[Call] | Call
    layout: ValueLayout
    bounds: list[tuple[int, int]]
    device: Any
    state: Mapping[str, Any] | None = None

    def _call(self, shard: int) -> Call:
        return self.calls[shard] if isinstance(self.calls, list) else self.calls

    def forward(self, tensors: Sequence[torch.Tensor]) -> torch.Tensor:
        """The shards' results, joined in row order on the caller's device."""
        outputs: list[ShardOutput] = self._gather([
            self.client.submit(run_shard, self.template, self._call(i), self.layout,
                               self.layout.shard(tensors, start, stop), pure=False)
            for i, (start, stop) in enumerate(self.bounds)])
        for category, message in dict.fromkeys(w for output in outputs for w in output.warnings):
            _warn_again(category, message)
        self.state = outputs[0].state
        joined = torch.cat([output.tensor for output in outputs])
        return joined if self.device is None else joined.to(self.device)

    def vjp(self, tensors: Sequence[torch.Tensor], needs_grad: tuple[bool, ...],
            grad_output: torch.Tensor) -> list[torch.Tensor | None]:
        """The gradient of each value tensor: per-row ones joined from their shards, shared ones summed."""
        grad_output = grad_output.detach().cpu()
        per_shard = self._gather([
            self.client.submit(vjp_shard, self.template, self._call(i), self.layout,
                               self.layout.shard(tensors, start, stop), needs_grad,
                               grad_output[start:stop].clone(), pure=False)
            for i, (start, stop) in enumerate(self.bounds)])
        return [self._joined(k, tensor, [grads[k] for grads in per_shard]) if need else None
                for k, (tensor, need) in enumerate(zip(tensors, needs_grad))]

    def _joined(self, k: int, tensor: torch.Tensor, parts: list[torch.Tensor | None]) -> torch.Tensor:
        if self.layout.per_row[k]:
            filled = [torch.zeros_like(tensor[start:stop], device="cpu") if part is None else part
                      for part, (start, stop) in zip(parts, self.bounds)]
            total = torch.cat(filled)
        else:
            total = sum((part for part in parts if part is not None), torch.zeros_like(tensor, device="cpu"))
        return total.to(dtype=tensor.dtype, device=tensor.device)

    def _gather(self, futures: list[distributed.Future]) -> list[Any]:
        """The futures' results in order; a Ctrl-C cancels what is still running on the cluster."""
        try:
            return self.client.gather(futures)
        except distributed.KilledWorker as exc:
            raise BackendError(f"shard task {exc.task!r} was given up after {exc.allowed_failures + 1} workers died "
                               "running it (Dask's distributed.scheduler.allowed-failures); the workers' memory "
                               "and logs say why") from None
        except BaseException:
            self.client.cancel(futures)
            raise


def _warn_again(category: type[Warning], message: str) -> None:
    """A warning a worker gave, given here (as a ``UserWarning`` naming its class if that class cannot be
    made from the message alone)."""
    try:
        warning = category(message)
    except TypeError:
        warning = UserWarning(f"{category.__name__}: {message}")
    warnings.warn(warning, stacklevel=5)


class _ShardedRun(torch.autograd.Function):
    """The batch's results computed on the workers; backward ships the gradient to them for their VJPs."""

    @staticmethod
    def forward(ctx: Any, batch: _ShardedBatch, *tensors: torch.Tensor) -> torch.Tensor:
        ctx.batch = batch
        ctx.save_for_backward(*tensors)
        return batch.forward(tensors)

    @staticmethod
    def backward(ctx: Any, grad_output: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        if torch.is_grad_enabled():  # create_graph=True: the workers' VJPs come back as constants
            raise InputError("the Dask backend gives first derivatives only; for higher derivatives "
                             "(create_graph=True) run on the local backend")
        grads = ctx.batch.vjp(ctx.saved_tensors, tuple(ctx.needs_input_grad[1:]), grad_output)
        return (None, *grads)


def connect(address: str, *, timeout_s: float | None = None, inner: Any = None,
            shard_size: int | None = None, device: Any = None) -> DaskBackend:
    """A ``DaskBackend`` on the scheduler at ``address`` (``tcp://HOST:PORT``); a ``BackendError`` if the
    scheduler does not answer within ``timeout_s`` seconds (``None``: ``DEFAULT_CONNECT_TIMEOUT_S``), an
    ``InputError`` for an address that is not one."""
    if not isinstance(address, str) or not address.strip():
        raise InputError(f"the Dask scheduler address must be like tcp://HOST:PORT, got {address!r}")
    timeout_s = DEFAULT_CONNECT_TIMEOUT_S if timeout_s is None else timeout_s
    if not timeout_s > 0:
        raise InputError(f"timeout_s must be positive, got {timeout_s!r}")
    try:
        _probe(address.strip(), timeout_s)
        client = distributed.Client(address.strip(), timeout=timeout_s, set_as_default=False)
    except ValueError as exc:
        raise InputError(f"the Dask scheduler address {address!r} is not like tcp://HOST:PORT ({exc})") from None
    except (OSError, TimeoutError) as exc:
        raise BackendError(f"no Dask scheduler answered at {address!r} within {timeout_s:g} s ({exc}); "
                           "check the address and that the scheduler is running") from None
    return DaskBackend(client, inner, shard_size, device=device)


def _probe(address: str, timeout_s: float) -> None:
    """Open and close one connection to the scheduler: a ``Client`` that fails to start leaves a half-made
    object whose clean-up blocks and prints tracebacks. Runs on its own thread, so that it works where an
    event loop is already running (a notebook)."""
    async def open_and_close() -> None:
        comm = await distributed.comm.connect(address, timeout=timeout_s)
        await comm.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, open_and_close()).result()
