"""The memory budget: read from MemAvailable, set by the user, and checked before anything large is allocated."""

from __future__ import annotations

import importlib
import sys

import pytest
import torch

import qvec
from qvec.errors import BackendError, InputError
from qvec.sim import memory

MEMINFO = """MemTotal:       24508236 kB
MemFree:          812344 kB
MemAvailable:   18874368 kB
Buffers:          102400 kB
Cached:         16000000 kB
"""


@pytest.fixture
def budget():
    """Set a budget for one test and restore the default after it."""
    yield memory.set_memory_budget
    memory.set_memory_budget(None)


def test_meminfo_gives_mem_available_not_mem_free() -> None:
    assert memory.parse_meminfo(MEMINFO) == 18874368 * 1024
    assert memory.parse_meminfo("MemTotal: 100 kB\nMemFree: 50 kB\n") is None


def test_cpu_budget_is_a_share_of_mem_available(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    fake = tmp_path / "meminfo"
    fake.write_text(MEMINFO)
    monkeypatch.setattr(memory, "MEMINFO", fake)
    monkeypatch.delenv("QVEC_MEMORY_BUDGET", raising=False)
    expected = int(18874368 * 1024 * memory.DEFAULT_BUDGET_FRACTION)
    assert memory.memory_budget(torch.device("cpu")) == expected


@pytest.mark.parametrize("value", ["lots", "-5", "0", "nan"])
def test_a_bad_budget_variable_is_an_input_error(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("QVEC_MEMORY_BUDGET", value)
    with pytest.raises(InputError, match="QVEC_MEMORY_BUDGET must be a positive number of bytes"):
        memory.memory_budget(torch.device("cpu"))


@pytest.mark.parametrize("value", [0, -1, 2.5, True])
def test_a_bad_budget_is_an_input_error(value) -> None:
    with pytest.raises(InputError, match="memory budget must be a positive number of bytes"):
        memory.set_memory_budget(value)


@pytest.mark.parametrize("device", ["not-a-device", 3.5])
def test_a_bad_device_is_an_input_error(device) -> None:
    with pytest.raises(InputError, match="device"):
        qvec.Circuit(1).h(0).probs(device=device)


@pytest.mark.parametrize("n_qubits, message", [(40, "one row's working memory"), (64, "more than any memory holds"),
                                               (10**6, "more than any memory holds")])
def test_too_many_qubits_fail_before_allocating(n_qubits: int, message: str) -> None:
    circuit = qvec.Circuit(n_qubits)
    circuit.h(0)
    for qubit in range(min(n_qubits, 100) - 1):
        circuit.cx(qubit, qubit + 1)
    with pytest.raises(InputError, match=rf"{n_qubits} qubits.*{message}.*use fewer qubits"):
        circuit.probs()


def test_a_batch_whose_probabilities_do_not_fit_says_how_many_rows_fit(budget) -> None:
    circuit = qvec.Circuit(10).ry(0, "x")
    budget(2**20)  # 1 MiB: one row works in 32 KiB and keeps 4 KiB of probabilities, so 248 rows fit
    circuit.probs({"x": torch.zeros(64)})
    with pytest.raises(InputError, match=r"10 qubits x B = 1000 \(probabilities.*1\.0 MiB: lower the batch "
                                         r"\(at most 248 row\(s\) fit\), or set QVEC_MEMORY_BUDGET"):
        circuit.probs({"x": torch.zeros(1000)})


def test_samples_that_do_not_fit_fail_before_sampling(budget) -> None:
    budget(2**30)
    with pytest.raises(InputError, match=r"2 qubits x B = 1 \(samples.*lower the shots or the batch \(not even one row"):
        qvec.Circuit(2).h(0).sample(1_000_000_000)


def test_expectation_values_are_chunked_not_refused(budget) -> None:
    """Only the small [B, k] output is kept: a batch far larger than the budget runs in chunks."""
    circuit = qvec.Circuit(6).ry(0, "x").cx(0, 5)
    x = torch.linspace(0, 3, 2000, dtype=torch.float64)
    budget(64 * 1024)
    values = circuit.expval(["Z5"], {"x": x}, dtype=torch.complex128)
    torch.testing.assert_close(values[:, 0], torch.cos(x))


def test_an_empty_or_non_list_of_observables_is_an_input_error() -> None:
    with pytest.raises(InputError, match="at least one observable"):
        qvec.Circuit(1).expval([])
    with pytest.raises(InputError, match="observables must be a list"):
        qvec.Circuit(1).expval(5)


def test_an_allocator_failure_during_a_run_is_a_backend_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """The size check is an estimate; if memory still runs out, the error names the run, not the allocator."""
    def no_memory(*args, **kwargs):
        raise RuntimeError("[enforce fail at alloc_cpu.cpp:127] DefaultCPUAllocator: can't allocate memory: you tried")

    monkeypatch.setattr(importlib.import_module("qvec.sim.simulate"), "product_state", no_memory)
    with pytest.raises(BackendError, match=r"2 qubits x B = 3: out of memory while running .*lower the batch"):
        qvec.Circuit(2).ry(0, "x").probs({"x": torch.zeros(3)})


def test_other_runtime_errors_are_not_taken_for_memory() -> None:
    with pytest.raises(RuntimeError, match="something else") as caught:
        with memory.allocation_failures_as_errors("a run"):
            raise RuntimeError("something else")
    assert not isinstance(caught.value, BackendError)
    with pytest.raises(BackendError, match="a run: out of memory"):
        with memory.allocation_failures_as_errors("a run"):
            raise torch.OutOfMemoryError("CUDA out of memory")


def test_without_meminfo_or_psutil_free_pages_are_used(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    """Elsewhere than Linux: psutil if installed (it is not here), else the page counts of sysconf."""
    monkeypatch.setattr(memory, "MEMINFO", tmp_path / "missing")
    monkeypatch.setitem(sys.modules, "psutil", None)  # an import of psutil fails
    pages = {"SC_AVPHYS_PAGES": 1000, "SC_PAGE_SIZE": 4096}
    monkeypatch.setattr(memory.os, "sysconf", lambda name: pages[name])
    assert memory.available_bytes(torch.device("cpu")) == 1000 * 4096


def test_a_platform_that_says_nothing_needs_a_budget(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setattr(memory, "MEMINFO", tmp_path / "missing")
    monkeypatch.setitem(sys.modules, "psutil", None)

    def no_sysconf(name: str) -> int:
        raise ValueError(f"unrecognized configuration name {name}")

    monkeypatch.setattr(memory.os, "sysconf", no_sysconf)
    monkeypatch.delenv("QVEC_MEMORY_BUDGET", raising=False)
    with pytest.raises(BackendError, match="set QVEC_MEMORY_BUDGET"):
        memory.memory_budget(torch.device("cpu"))
    monkeypatch.setenv("QVEC_MEMORY_BUDGET", "1e9")
    assert memory.memory_budget(torch.device("cpu")) == 10**9


def test_fits_budget_checks_a_set_budget_but_reads_free_memory_only_for_large_runs(
        monkeypatch: pytest.MonkeyPatch) -> None:
    cpu = torch.device("cpu")
    monkeypatch.delenv("QVEC_MEMORY_BUDGET", raising=False)
    reads = []
    monkeypatch.setattr(memory, "_cpu_available_bytes", lambda: reads.append(1) or 2**40)
    assert memory.fits_budget(memory.SMALL_RUN_BYTES, cpu) and not reads
    assert memory.fits_budget(memory.SMALL_RUN_BYTES + 1, cpu) and reads
    memory.set_memory_budget(1000)
    try:
        assert memory.fits_budget(1000, cpu) and not memory.fits_budget(1001, cpu)
    finally:
        memory.set_memory_budget(None)
    monkeypatch.setattr(memory, "_cpu_available_bytes", lambda: 2 * memory.SMALL_RUN_BYTES + 2)
    assert not memory.fits_budget(memory.SMALL_RUN_BYTES + 2, cpu)  # over half of what is free
