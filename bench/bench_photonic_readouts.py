"""The second round of small-batch photonic changes, on and off, alternating in one process.

``PhotonicLayer`` on ``qvec bench cv``'s workload (CV-GAN generator: 2 modes, cutoff 8, 2 of Killoran's
layers, complex64, readouts <x> and <n> per mode; ``qvec.bench.workloads.gan_workload``), one step =
``layer(z).sum().backward()``, 1 torch thread. "new": the readouts as one node (``photonic.expectations``)
and the size check without /proc/meminfo (``memory.fits_budget``); "old": each readout's own autograd
operations and ``check_fits`` reading /proc/meminfo (the truncation check's graph-free norm is in both).
Alternating pairs cancel the drift of a shared machine's load. Writes JSON with the load and the commit.

    python bench/bench_photonic_readouts.py --batches 1,8,32 --pairs 7   # bench/results/photonic_readouts.json
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Callable

import torch

from qvec.bench.workloads import gan_workload

sys.path.insert(0, str(Path(__file__).parent))
from bench_photonic_adjoint import alternate, arguments  # noqa: E402

RESULTS = Path(__file__).parent / "results"


def main() -> None:
    args = arguments(__doc__.splitlines()[0], RESULTS / "photonic_readouts.json")
    torch.set_num_threads(1)
    simulate = importlib.import_module("qvec.photonic.simulate")
    workload = gan_workload()
    layer = workload.layer()
    forms, fits = layer._forms, simulate.fits_budget

    def switch(new_forms, new_fits) -> Callable[[], None]:
        def switch_on() -> None:
            layer._forms, simulate.fits_budget = new_forms, new_fits
        return switch_on

    try:
        alternate(workload, layer, [int(b) for b in args.batches.split(",")], args.pairs, args.seconds,
                  {"new": switch(forms, fits), "old": switch(None, lambda needed, device: False)}, args.output)
    finally:
        layer._forms, simulate.fits_budget = forms, fits

if __name__ == "__main__":
    main()
