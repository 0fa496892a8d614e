"""Zero-phase Gaussian gates as polynomials: one coefficient table per cutoff, one small matmul per build.

Every entry of ``D(r)``, ``S(r)`` and ``BS(theta)`` (phase 0) is a prefactor times a polynomial in
two scalar functions ``u, v`` of the parameter: ``exp(-r^2/2) * poly(r)`` for D, ``sqrt(sech r) *
poly(tanh r, sech r)`` for S, ``poly(cos theta, sin theta)`` for BS. The polynomial coefficients are
the closed forms of the truncated matrix elements of the exact operators (the same numbers the
recurrences of ``recurrences`` produce), computed once per cutoff. A monomial's derivative is again
a sum of monomials (each kind's ``Slope`` rule), so the derivatives' coefficients sit beside the
values' and a build of G instances is ``[G, K] @ [2, K, E]`` over the K monomials and E non-zero
entries: exact, no recurrence, no autograd graph. BS's table is block-diagonal by degree (photon
number); its product runs over a few diagonal blocks, skipping most of its zeros.

The closed forms sum terms of alternating sign. ``error_bound`` is the largest sum of their absolute
values times the float64 epsilon; a build whose bound exceeds ``MAX_ERROR`` is left to the recurrences
(``zero_phase_gate`` decides), so a table never returns an entry less exact than about 1e-13 (its derivative 1e-12).
"""

from __future__ import annotations

import dataclasses
import functools
import math
from dataclasses import dataclass
from typing import Iterator

import numpy as np
import torch

from .recurrences import RECURRENCES

__all__ = ["GateTable", "table_for", "zero_phase_entries", "MAX_ERROR"]

# Entries' bound; their derivatives' errors come out up to ~10x larger (higher-degree monomials).
MAX_ERROR = 1e-13
# The error bound is checked on this many points of [0, LIMIT_SEARCH] (BS: [0, pi/2]).
LIMIT_SEARCH, LIMIT_POINTS = 8.0, 161
EPSILON = torch.finfo(torch.float64).eps

Term = tuple[tuple[int, ...], int, int, float]  # (entry index tuple, power of u, power of v, coefficient)
Slope = tuple[tuple[int, int, float], ...]  # a monomial's derivative: (power of u, power of v, factor) per term


def _f(n: int) -> int:
    return math.factorial(n)


def _displacement_terms(cutoff: int) -> Iterator[Term]:
    """D_mn(r) = exp(-r^2/2) sum_j (-1)^(n-j) sqrt(m! n!) / (j! (m-j)! (n-j)!) r^(m+n-2j)."""
    for m in range(cutoff):
        for n in range(cutoff):
            for j in range(min(m, n) + 1):
                value = (-1) ** (n - j) * math.sqrt(_f(m) * _f(n)) / (_f(j) * _f(m - j) * _f(n - j))
                yield (m, n), m + n - 2 * j, 0, value


def _squeezing_terms(cutoff: int) -> Iterator[Term]:
    """S_mn(r) = sqrt(sech r) sqrt(m! n!) sum_j (-t/2)^((m-j)/2) (t/2)^((n-j)/2) sech^j / (j! ((m-j)/2)! ((n-j)/2)!)."""
    for m in range(cutoff):
        for n in range(m % 2, cutoff, 2):
            for j in range(m % 2, min(m, n) + 1, 2):
                a, b = (m - j) // 2, (n - j) // 2
                value = (math.sqrt(_f(m) * _f(n)) * (-1) ** a / 2 ** (a + b)) / (_f(j) * _f(a) * _f(b))
                yield (m, n), a + b, j, value


def _beamsplitter_terms(cutoff: int) -> Iterator[Term]:
    """BS|p, q> = (t a^dag + s b^dag)^p (t b^dag - s a^dag)^q |0> / sqrt(p! q!), expanded binomially."""
    for p in range(cutoff):
        for q in range(cutoff):
            for i in range(p + 1):
                for j in range(q + 1):
                    m, n = i + q - j, p - i + j
                    if m < cutoff and n < cutoff:
                        value = (math.comb(p, i) * math.comb(q, j) * (-1) ** (q - j)
                                 * math.sqrt(_f(m) * _f(n) / (_f(p) * _f(q))))
                        yield (m, n, p, q), i + j, p - i + q - j, value


def _displacement_slope(a: int, b: int) -> Slope:
    """d/dr (e^(-r^2/2) r^a) = e^(-r^2/2) (a r^(a-1) - r^(a+1))."""
    return (a - 1, b, float(a)), (a + 1, b, -1.0)


def _squeezing_slope(a: int, b: int) -> Slope:
    """d/dr (sech^(1/2) tanh^a sech^b) = sech^(1/2) (a tanh^(a-1) sech^(b+2) - (b + 1/2) tanh^(a+1) sech^b)."""
    return (a - 1, b + 2, float(a)), (a + 1, b, -(b + 0.5))


def _beamsplitter_slope(a: int, b: int) -> Slope:
    """d/dt (cos^a sin^b) = b cos^(a+1) sin^(b-1) - a cos^(a-1) sin^(b+1)."""
    return (a + 1, b - 1, float(b)), (a - 1, b + 1, -float(a))


# Per kind: its terms, the number of axes of its gate and the derivative of its monomials.
TERMS = {"displacement": (_displacement_terms, 2, _displacement_slope),
         "squeezing": (_squeezing_terms, 2, _squeezing_slope),
         "beamsplitter": (_beamsplitter_terms, 4, _beamsplitter_slope)}
# BS's entries of photon number N hold only monomials of degree a + b = N: its table is block-diagonal by degree.
BY_DEGREE = {"beamsplitter"}
# One more matmul costs about as many multiply-adds (per row of a small batch) as skipping this many zero coefficients.
BLOCK_COST = 4096

Block = tuple[slice, slice, np.ndarray]  # monomials (rows), entries (columns), coefficients [2, rows, columns]


@dataclass(frozen=True)
class GateTable:
    """Coefficients of monomials ``pre u^a v^b`` (exponents ``a``, ``b`` [K]) in the non-zero ``entries`` [E] and
    in their derivatives, as diagonal ``blocks`` of a ``[2, K, E]`` table whose other coefficients are all zero."""

    kind: str
    cutoff: int
    a: np.ndarray
    b: np.ndarray
    exponents: np.ndarray  # [2, A] float64: 0 .. A - 1 for u and for v (S: -(j + 1/2), cosh's for sech^(j + 1/2))
    places: np.ndarray  # [2, K]: a and A + b, the monomials' two factors in the flattened powers [G, 2 A]
    blocks: tuple[Block, ...]
    entries: np.ndarray
    limit: float = math.inf  # the largest |theta| for which the table is exact to MAX_ERROR

    @property
    def shape(self) -> tuple[int, ...]:
        return (self.cutoff,) * TERMS[self.kind][1]

    def monomials(self, theta: np.ndarray) -> np.ndarray:
        """``pre u^a v^b`` [G, K] for parameters ``theta`` [G] (float64), from one small table of powers of u and v.

        The prefactor rides on v's powers (S: ``sech^(1/2) sech^j = cosh^-(j + 1/2)``; BS has none); D's
        monomials are ``r^0 .. r^A`` in order, its powers of u alone."""
        if self.kind == "displacement":
            return np.power.outer(theta, self.exponents[0]) * np.exp(-0.5 * theta * theta)[:, None]
        count = theta.shape[0]
        base = np.empty((count, 2, 1))
        u, v = (np.tanh, np.cosh) if self.kind == "squeezing" else (np.cos, np.sin)
        u(theta, out=base[:, 0, 0])
        v(theta, out=base[:, 1, 0])
        factors = (base ** self.exponents).reshape(count, self.exponents.size).take(self.places, 1)  # [G, 2, K]
        return factors[:, 0] * factors[:, 1]

    def bounds(self, theta: np.ndarray) -> np.ndarray:
        """Per parameter [G], the largest rounding error of an entry: epsilon times the sum of its terms' magnitudes."""
        magnitudes = np.abs(self.monomials(theta))
        return EPSILON * np.max([(magnitudes[:, rows] @ np.abs(c[0])).max(1) for rows, _, c in self.blocks], axis=0)

    def error_bound(self, theta: np.ndarray) -> float:
        """Largest rounding error of an entry over ``theta``."""
        return float(self.bounds(theta).max())

    def exact_for(self, theta: np.ndarray) -> bool:
        """Whether the table is exact to ``MAX_ERROR`` for every value of ``theta``."""
        return self.limit == math.inf or (theta.size == 0 or float(np.abs(theta).max()) <= self.limit)

    def values_and_slopes(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The non-zero ``entries`` of the gates for ``theta`` [G] and their exact derivatives ``d / d theta``,
        ``[G, E]`` each (float64): one product of the monomials with each block of values' and slopes' coefficients.

        At small batches each numpy operation costs microseconds: the derivatives come from the same monomials
        (folded into the coefficients), and the blocks skip the zeros that dominate BS's table."""
        monomials = self.monomials(theta)
        out = np.empty((2, theta.shape[0], self.entries.shape[0]))
        for rows, columns, coefficients in self.blocks:
            np.matmul(monomials[:, rows], coefficients, out=out[:, :, columns])
        return out[0], out[1]

    def scatter(self, values: np.ndarray) -> np.ndarray:
        """Entries ``[G, E]`` placed on the gates' grid ``[G, c, ..]``."""
        out = np.zeros((values.shape[0], self.cutoff ** len(self.shape)), dtype=values.dtype)
        out[:, self.entries] = values
        return out.reshape(values.shape[0], *self.shape)


def _collect(kind: str, cutoff: int) -> dict[tuple[int, int], dict[int, list[float]]]:
    """Per monomial ``(a, b)``, per flat entry index, its coefficients ``[value, slope]`` in the entry and in the
    entry's derivative (each term's monomial differentiated by the kind's ``Slope`` rule)."""
    terms, axes, slope = TERMS[kind]
    found: dict[tuple[int, int], dict[int, list[float]]] = {}
    for index, a, b, value in terms(cutoff):
        flat = sum(i * cutoff ** (axes - 1 - k) for k, i in enumerate(index))
        found.setdefault((a, b), {}).setdefault(flat, [0.0, 0.0])[0] += value
        for a_, b_, factor in slope(a, b):
            if factor:
                found.setdefault((a_, b_), {}).setdefault(flat, [0.0, 0.0])[1] += factor * value
    return found


@functools.lru_cache(maxsize=32)
def table_for(kind: str, cutoff: int) -> GateTable:
    """The coefficient table of ``kind`` at ``cutoff`` (built once, exact to a rounding of each coefficient).

    Monomials and entries are sorted by degree (BS; one degree for D and S), so each block is a range of both."""
    found = _collect(kind, cutoff)
    degree = (lambda m: m[0] + m[1]) if kind in BY_DEGREE else (lambda m: 0)
    monomials = sorted(found, key=lambda m: (degree(m), m))
    entry_degree = {flat: degree(m) for m in monomials for flat in found[m]}
    entries = sorted(entry_degree, key=lambda flat: (entry_degree[flat], flat))
    column = {flat: i for i, flat in enumerate(entries)}
    coefficients = np.zeros((2, len(monomials), len(entries)))
    for row, m in enumerate(monomials):
        for flat, pair in found[m].items():
            coefficients[:, row, column[flat]] = pair
    spans = _blocks(np.array([degree(m) for m in monomials]), np.array([entry_degree[flat] for flat in entries]))
    blocks = tuple((rows, columns, np.ascontiguousarray(coefficients[:, rows, columns])) for rows, columns in spans)
    a, b = np.array(monomials, dtype=np.int64).reshape(-1, 2).T
    if kind == "displacement":
        assert np.array_equal(a, np.arange(a.size)) and not b.any()  # monomials() takes them as r^0 .. r^A
    powers = np.arange(max(a.max(), b.max()) + 1.0)
    exponents = np.stack([powers, -0.5 - powers if kind == "squeezing" else powers])
    table = GateTable(kind, cutoff, a, b, exponents, np.stack([a, powers.size + b]), blocks,
                      np.array(entries, dtype=np.int64))
    return dataclasses.replace(table, limit=_limit(table))


def _blocks(rows: np.ndarray, columns: np.ndarray) -> list[tuple[slice, slice]]:
    """Consecutive ranges of degrees, as slices of the sorted degrees of the monomials (``rows``) and entries
    (``columns``), that minimise the multiply-adds of their blocks' products plus ``BLOCK_COST`` per block."""
    levels = np.unique(rows)
    r = np.append(np.searchsorted(rows, levels), rows.size)  # where each degree's rows and columns start
    c = np.append(np.searchsorted(columns, levels), columns.size)
    best, cut = [0.0] + [math.inf] * levels.size, [0] * (levels.size + 1)
    for end in range(1, levels.size + 1):
        for start in range(end):
            cost = best[start] + BLOCK_COST + 2 * (r[end] - r[start]) * (c[end] - c[start])
            if cost < best[end]:
                best[end], cut[end] = cost, start
    spans, end = [], levels.size
    while end:
        spans.append((slice(int(r[cut[end]]), int(r[end])), slice(int(c[cut[end]]), int(c[end]))))
        end = cut[end]
    return spans[::-1]


def _limit(table: GateTable) -> float:
    """The largest |theta| such that the error bound holds on a fine grid of [0, |theta|].

    D's bound grows with |r| up to about sqrt(2 c), under LIMIT_SEARCH for the cutoffs where the table holds
    at all, and falls after it; S's and BS's are functions of |tanh r|, sech r, |cos|, |sin| <= 1, flat past
    r = LIMIT_SEARCH and periodic in theta (the grid covers a quarter period, all the abs values take). So a
    bound that holds on the whole grid holds everywhere (inf); else it holds up to where the grid first fails.
    """
    top = math.pi / 2 if table.kind == "beamsplitter" else LIMIT_SEARCH
    grid = np.linspace(0.0, top, LIMIT_POINTS)
    bad = np.flatnonzero(table.bounds(grid) > MAX_ERROR)
    if not bad.size:
        return math.inf
    return float(grid[bad[0] - 1]) if bad[0] else -1.0


def zero_phase_entries(kind: str, theta: np.ndarray, cutoff: int) -> tuple[np.ndarray, np.ndarray]:
    """The non-zero entries ``[G, E]`` (float64, at ``table_for(kind, cutoff).entries``) of the real zero-phase gate
    ``kind`` for each of ``theta`` [G], and their derivatives: from its table where that is exact to ``MAX_ERROR``,
    else from the recurrences."""
    table = table_for(kind, cutoff)
    if table.exact_for(theta):
        return table.values_and_slopes(theta)
    build, derivative = RECURRENCES[kind]
    gates = build(theta, cutoff)
    count = theta.shape[0]
    return (gates.reshape(count, -1)[:, table.entries],
            derivative(theta, gates).reshape(count, -1)[:, table.entries])
