"""Parameter-shift rules: the exact derivative of an expectation value from shifted evaluations.

For a gate ``exp(-i theta G)`` the expectation value is a trigonometric polynomial in ``theta``
whose frequencies are the differences of G's eigenvalues. A rule with shifts ``s_t`` and
coefficients ``c_t`` gives ``df/dtheta = sum_t c_t f(theta + s_t)`` exactly for that spectrum.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from qvec.errors import InputError

__all__ = ["FOUR_TERM", "ShiftRule", "TWO_TERM", "shift_rule"]


@dataclass(frozen=True)
class ShiftRule:
    """``df/dtheta = sum_t coefficients[t] * f(theta + shifts[t])``."""

    shifts: tuple[float, ...]
    coefficients: tuple[float, ...]


# Frequencies {1} (eigenvalues +-1/2, or {0, 1} up to a global phase): the difference of two
# evaluations pi/2 either side.
TWO_TERM = ShiftRule((math.pi / 2, -math.pi / 2), (0.5, -0.5))

# Frequencies {1/2, 1} (a controlled rotation: eigenvalues {0, 0, +-1/2}); Anselmetti et al. 2021,
# Wierichs et al. 2022. With f = sin(w theta) at 0 both sides give w for w = 1/2 and w = 1.
_NEAR = (math.sqrt(2) + 1) / (4 * math.sqrt(2))
_FAR = (math.sqrt(2) - 1) / (4 * math.sqrt(2))
FOUR_TERM = ShiftRule((math.pi / 2, -math.pi / 2, 3 * math.pi / 2, -3 * math.pi / 2), (_NEAR, -_NEAR, -_FAR, _FAR))

# u(theta, phi, lam) = p(phi) ry(theta) p(lam): each angle sits in one rotation with frequency 1.
# cp(lam) = exp(i lam |11><11|): generator eigenvalues {0, 1}, a single frequency 1.
RULES: dict[str, ShiftRule] = {
    **{gate: TWO_TERM for gate in ("rx", "ry", "rz", "p", "u", "cp", "rxx", "ryy", "rzz")},
    **{gate: FOUR_TERM for gate in ("crx", "cry", "crz")},
}


def shift_rule(gate: str) -> ShiftRule:
    """The rule for every angle of ``gate``; an ``InputError`` naming the gate if there is none."""
    try:
        return RULES[gate]
    except KeyError:
        known = " ".join(RULES)
        raise InputError(f"parameter-shift has no rule for gate {gate!r} (it has rules for: {known}); "
                         "use diff_method='backprop' or 'spsa' for it") from None
