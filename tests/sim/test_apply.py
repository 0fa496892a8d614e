"""Each kernel against an independent dense reference; interchangeable kernels against each other."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from qvec.errors import BackendError
from qvec.sim.apply import Dense, Monomial, apply_block, apply_gate, apply_step, kron_chain

from .reference import embed


def random_unitary(dim: int, rng: np.random.Generator) -> np.ndarray:
    q, r = np.linalg.qr(rng.normal(size=(dim, dim)) + 1j * rng.normal(size=(dim, dim)))
    return q * (np.diag(r) / np.abs(np.diag(r)))


def random_rows(n_rows: int, n_qubits: int, rng: np.random.Generator) -> torch.Tensor:
    rows = rng.normal(size=(n_rows, 2**n_qubits)) + 1j * rng.normal(size=(n_rows, 2**n_qubits))
    return torch.tensor(rows / np.linalg.norm(rows, axis=1, keepdims=True))


def test_kron_chain_matches_torch_kron() -> None:
    rng = np.random.default_rng(0)
    factors = torch.tensor(np.stack([random_unitary(2, rng) for _ in range(4)]))
    expected = factors[0]
    for factor in factors[1:]:
        expected = torch.kron(expected, factor)
    torch.testing.assert_close(kron_chain(factors), expected)
    batched = torch.stack([factors, factors.flip(0)])
    torch.testing.assert_close(kron_chain(batched)[0], expected)


@pytest.mark.parametrize("start,size", [(0, 1), (2, 1), (4, 1), (0, 3), (1, 2), (2, 3)])
def test_apply_block_matches_dense_embedding(start: int, size: int) -> None:
    rng = np.random.default_rng(start * 10 + size)
    n_qubits = 5
    matrix = random_unitary(2**size, rng)
    rows = random_rows(3, n_qubits, rng)
    wires = tuple(range(start + size - 1, start - 1, -1))
    expected = rows @ torch.tensor(embed(matrix, wires, n_qubits)).T
    torch.testing.assert_close(apply_block(rows, torch.tensor(matrix), start, size), expected)
    per_row = torch.tensor(np.stack([matrix] * 3))
    torch.testing.assert_close(apply_block(rows, per_row, start, size), expected)


@pytest.mark.parametrize("wires", [(0, 1), (1, 0), (3, 1), (0, 2, 4), (4, 0, 2)])
def test_apply_gate_matches_dense_embedding(wires: tuple[int, ...]) -> None:
    rng = np.random.default_rng(len(wires) + sum(wires))
    n_qubits = 5
    matrix = random_unitary(2 ** len(wires), rng)
    rows = random_rows(4, n_qubits, rng)
    expected = rows @ torch.tensor(embed(matrix, wires, n_qubits)).T
    torch.testing.assert_close(apply_gate(rows, torch.tensor(matrix), wires, n_qubits), expected)


def test_monomial_and_dense_kernels_agree() -> None:
    rng = np.random.default_rng(3)
    dim = 8
    source = torch.tensor(rng.permutation(dim))
    phase = torch.tensor(np.exp(1j * rng.uniform(0, 6, dim)))
    operator = torch.zeros(dim, dim, dtype=torch.complex128)
    operator[source, torch.arange(dim)] = phase
    rows = random_rows(5, 3, rng)
    whole_register = Monomial((2, 1, 0), source, phase)
    torch.testing.assert_close(apply_step(whole_register, rows, 3), apply_step(Dense(operator), rows, 3))


@pytest.mark.parametrize("wires", [(1, 0), (3, 2), (4, 3, 2), (4, 2), (3, 0, 1)])
def test_monomial_on_some_wires_matches_its_gate_matrix(wires: tuple[int, ...]) -> None:
    rng = np.random.default_rng(len(wires) + wires[0])
    dim = 2 ** len(wires)
    source = rng.permutation(dim)
    phase = np.exp(1j * rng.uniform(0, 6, dim))
    matrix = np.zeros((dim, dim), dtype=complex)
    matrix[np.arange(dim), source] = phase  # new[y] = phase[y] old[source[y]]
    rows = random_rows(4, 5, rng)
    got = apply_step(Monomial(wires, torch.tensor(source), torch.tensor(phase)), rows, 5)
    expected = rows @ torch.tensor(embed(matrix, wires, 5)).T
    torch.testing.assert_close(got, expected)


def test_a_step_without_a_kernel_is_a_backend_error() -> None:
    with pytest.raises(BackendError, match="no kernel for a step of type object"):
        apply_step(object(), torch.ones(1, 2, dtype=torch.complex64), 1)
