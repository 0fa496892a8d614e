"""Zero-phase Gaussian gates as polynomials: one coefficient table per cutoff, one small matmul per build.

Every entry of ``D(r)``, ``S(r)`` and ``BS(theta)`` (phase 0) is a prefactor times a polynomial in
two scalar functions ``u, v`` of the parameter: ``exp(-r^2/2) * poly(r)`` for D, ``sqrt(sech r) *
poly(tanh r, sech r)`` for S, ``poly(cos theta, sin theta)`` for BS. The polynomial coefficients are
the closed forms of the truncated matrix elements of the exact operators (the same numbers the
recurrences of ``recurrences`` produce), computed once per cutoff. A build of G instances is then
``[G, K] @ [K, E]`` over the K monomials and E non-zero entries, and the derivative is the same
product with the monomials' derivatives: exact, no recurrence, no autograd graph.

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


TERMS = {"displacement": (_displacement_terms, 2), "squeezing": (_squeezing_terms, 2),
         "beamsplitter": (_beamsplitter_terms, 4)}


@dataclass(frozen=True)
class GateTable:
    """Coefficients ``[K, E]`` of monomials ``u^a v^b`` (exponents ``a``, ``b`` [K]) for the non-zero ``entries``."""

    kind: str
    cutoff: int
    coefficients: np.ndarray
    magnitude: np.ndarray  # [K, E] absolute coefficients, for the error bound
    a: np.ndarray  # [K] exponents (as indices, as float64 factors, lowered by one with 0 kept) and [0..max]
    b: np.ndarray
    a_factor: np.ndarray
    b_factor: np.ndarray
    a_lower: np.ndarray
    b_lower: np.ndarray
    a_range: np.ndarray
    b_range: np.ndarray
    entries: np.ndarray
    limit: float = math.inf  # the largest |theta| for which the table is exact to MAX_ERROR

    @property
    def shape(self) -> tuple[int, ...]:
        return (self.cutoff,) * TERMS[self.kind][1]

    def scalars(self, theta: np.ndarray) -> tuple[np.ndarray, ...]:
        """``u, v, du, dv``, the prefactor and its derivative for parameters ``theta`` [G] (float64)."""
        if self.kind == "displacement":
            one, pre = np.ones_like(theta), np.exp(-0.5 * theta * theta)
            return theta, one, one, np.zeros_like(theta), pre, -theta * pre
        if self.kind == "squeezing":
            t, s = np.tanh(theta), 1.0 / np.cosh(theta)
            pre = np.sqrt(s)
            return t, s, s * s, -s * t, pre, -0.5 * t * pre
        c, s = np.cos(theta), np.sin(theta)
        return c, s, -s, c, np.ones_like(theta), np.zeros_like(theta)

    def _monomials(self, u: np.ndarray, v: np.ndarray, lowered: bool = True) -> tuple[np.ndarray, ...]:
        """``u^a``, ``v^b`` per monomial ``[G, K]`` and, if ``lowered``, ``u^(a-1)``, ``v^(b-1)`` (``u^0`` where a = 0)."""
        pu = u[:, None] ** self.a_range
        pv = v[:, None] ** self.b_range
        if not lowered:
            return pu[:, self.a], pv[:, self.b]
        return pu[:, self.a], pv[:, self.b], pu[:, self.a_lower], pv[:, self.b_lower]

    def error_bound(self, theta: np.ndarray) -> float:
        """Largest rounding error of an entry: epsilon times the sum of its terms' absolute values."""
        u, v, _, _, pre, _ = self.scalars(theta)
        ua, vb = self._monomials(np.abs(u), np.abs(v), lowered=False)
        return float((np.abs(pre)[:, None] * (ua * vb) @ self.magnitude).max()) * EPSILON

    def exact_for(self, theta: np.ndarray) -> bool:
        """Whether the table is exact to ``MAX_ERROR`` for every value of ``theta``."""
        return self.limit == math.inf or (theta.size == 0 or float(np.abs(theta).max()) <= self.limit)

    def values_and_slopes(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The non-zero ``entries`` of the gates for ``theta`` [G] and their exact derivatives ``d / d theta``,
        ``[G, E]`` each (float64), by one product of the monomials ``pre u^a v^b`` and their derivatives.

        The factors a kind does not have are skipped (D: ``v = 1``, ``du = 1``; BS: no prefactor): at small
        batches each numpy operation costs microseconds."""
        u, v, du, dv, pre, dpre = self.scalars(theta)
        u = u[:, None]
        monomial = u ** self.a_factor
        slope = self.a_factor * u ** self.a_lower
        if self.kind != "displacement":
            v = v[:, None]
            vb = v ** self.b_factor
            slope = slope * du[:, None] * vb + monomial * (self.b_factor * v ** self.b_lower * dv[:, None])
            monomial = monomial * vb
        if self.kind != "beamsplitter":
            pre = pre[:, None]
            slope = dpre[:, None] * monomial + pre * slope
            monomial = pre * monomial
        both = np.concatenate([monomial, slope]) @ self.coefficients
        return both[:theta.shape[0]], both[theta.shape[0]:]

    def scatter(self, values: np.ndarray) -> np.ndarray:
        """Entries ``[G, E]`` placed on the gates' grid ``[G, c, ..]``."""
        out = np.zeros((values.shape[0], self.cutoff ** len(self.shape)), dtype=values.dtype)
        out[:, self.entries] = values
        return out.reshape(values.shape[0], *self.shape)


@functools.lru_cache(maxsize=32)
def table_for(kind: str, cutoff: int) -> GateTable:
    """The coefficient table of ``kind`` at ``cutoff`` (built once, exact to a rounding of each coefficient)."""
    terms, axes = TERMS[kind]
    monomials: dict[tuple[int, int], int] = {}
    entries: dict[int, int] = {}
    found: list[tuple[int, int, float]] = []
    for index, a, b, value in terms(cutoff):
        flat = sum(i * cutoff ** (axes - 1 - k) for k, i in enumerate(index))
        found.append((monomials.setdefault((a, b), len(monomials)), entries.setdefault(flat, len(entries)), value))
    coefficients = np.zeros((len(monomials), len(entries)))
    for row, column, value in found:
        coefficients[row, column] += value
    a, b = np.array(list(monomials), dtype=np.int64).reshape(-1, 2).T
    table = GateTable(kind, cutoff, coefficients, np.abs(coefficients), a, b, a.astype(np.float64), b.astype(np.float64),
                      np.maximum(a - 1, 0), np.maximum(b - 1, 0), np.arange(a.max() + 1.0), np.arange(b.max() + 1.0),
                      np.array(list(entries), dtype=np.int64))
    return dataclasses.replace(table, limit=_limit(table))


def _limit(table: GateTable) -> float:
    """The largest |theta| such that the error bound holds on a fine grid of [0, |theta|].

    D's bound grows with |r| up to about sqrt(2 c), under LIMIT_SEARCH for the cutoffs where the table holds
    at all, and falls after it; S's and BS's are functions of |tanh r|, sech r, |cos|, |sin| <= 1, flat past
    r = LIMIT_SEARCH and periodic in theta (the grid covers a quarter period, all the abs values take). So a
    bound that holds on the whole grid holds everywhere (inf); else it holds up to where the grid first fails.
    """
    top = math.pi / 2 if table.kind == "beamsplitter" else LIMIT_SEARCH
    grid = np.linspace(0.0, top, LIMIT_POINTS)
    bad = [i for i, value in enumerate(grid) if table.error_bound(np.array([value])) > MAX_ERROR]
    if not bad:
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
