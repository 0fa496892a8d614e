"""Trainable circuit templates: each builds (or extends) a circuit and returns it with the weight names it created.

Pass ``circuit=`` to append to an existing circuit (an encoder's, say); ``prefix`` names the weights,
and a name the circuit already uses is refused rather than silently tied to it.
"""

from __future__ import annotations

from typing import Sequence

from qvec.circuit import Circuit
from qvec.errors import InputError
from qvec.photonic import Circuit as PhotonicCircuit

__all__ = ["basic_entangler", "cv_neural_net", "hardware_efficient", "strongly_entangling"]

ROTATIONS = ("rx", "ry", "rz")
ENTANGLEMENTS = ("ring", "linear", "all")


def positive_int(value: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InputError(f"{what} must be a positive integer, got {value!r}")
    return value


def target_circuit(n_qubits: int, circuit: Circuit | None) -> Circuit:
    """A new ``n_qubits`` circuit, or ``circuit`` after checking its width."""
    positive_int(n_qubits, "n_qubits")
    if circuit is None:
        return Circuit(n_qubits)
    if not isinstance(circuit, Circuit) or circuit.n_qubits != n_qubits:
        raise InputError(f"circuit= must be a qvec.Circuit of {n_qubits} qubits, got {circuit!r}")
    return circuit


def fresh_names(circuit: Circuit | PhotonicCircuit, names: list[str]) -> list[str]:
    """``names``, after checking that ``circuit`` uses none of them yet (so templates never share parameters by accident)."""
    taken = set(circuit.parameters) & set(names)
    if taken:
        raise InputError(f"parameter {sorted(taken)[0]!r} is already in the circuit: pass another prefix=")
    return names


def check_rotation(rotation: str) -> str:
    if not isinstance(rotation, str) or rotation not in ROTATIONS:
        raise InputError(f"rotation must be one of {', '.join(ROTATIONS)}, got {rotation!r}")
    return rotation


def check_rotations(rotations: Sequence[str]) -> tuple[str, ...]:
    if isinstance(rotations, str):
        rotations = (rotations,)
    bad = [r for r in rotations if r not in ROTATIONS]
    if not rotations or bad:
        raise InputError(f"rotations must be a non-empty list of {', '.join(ROTATIONS)}, got {list(rotations)!r}")
    return tuple(rotations)


def entangling_pairs(n_qubits: int, entanglement: str) -> list[tuple[int, int]]:
    """CNOT (control, target) pairs: a ring, a line, or all pairs ``i < j``."""
    if entanglement not in ENTANGLEMENTS:
        raise InputError(f"unknown entanglement {entanglement!r}; accepted: {', '.join(map(repr, ENTANGLEMENTS))}")
    if n_qubits == 1:
        return []
    if entanglement == "all":
        return [(i, j) for i in range(n_qubits) for j in range(i + 1, n_qubits)]
    line = [(q, q + 1) for q in range(n_qubits - 1)]
    return line + [(n_qubits - 1, 0)] if entanglement == "ring" and n_qubits > 2 else line


def hardware_efficient(n_qubits: int, layers: int, *, rotations: Sequence[str] = ("ry", "rz"),
                       entanglement: str = "ring", prefix: str = "w",
                       circuit: Circuit | None = None) -> tuple[Circuit, list[str]]:
    """``layers`` x (the ``rotations`` on every qubit, then CNOTs in a ``ring``, a ``linear`` chain or ``all`` pairs).

    Weights ``{prefix}{layer}_{qubit}_{k}`` for the k-th rotation.
    """
    circuit, rotations = target_circuit(n_qubits, circuit), check_rotations(rotations)
    pairs = entangling_pairs(n_qubits, entanglement)
    names = fresh_names(circuit, [f"{prefix}{layer}_{q}_{k}" for layer in range(positive_int(layers, "layers"))
                                  for q in range(n_qubits) for k in range(len(rotations))])
    weights = iter(names)
    for _ in range(layers):
        for q in range(n_qubits):
            for gate in rotations:
                circuit.append(gate, (q,), (next(weights),))
        for control, target in pairs:
            circuit.cx(control, target)
    return circuit, names


def strongly_entangling(n_qubits: int, layers: int, *, ranges: Sequence[int] | None = None, prefix: str = "w",
                        circuit: Circuit | None = None) -> tuple[Circuit, list[str]]:
    """Schuld et al.'s strongly entangling layers: on every qubit RZ(a) RY(b) RZ(c) (a general rotation),
    then CNOT(q, q + r mod n) for every q, with range ``r = ranges[layer]`` (default ``layer mod (n - 1) + 1``).

    Weights ``{prefix}{layer}_{qubit}_{k}``, k = 0, 1, 2 in the order the gates act.
    """
    circuit = target_circuit(n_qubits, circuit)
    positive_int(layers, "layers")
    if ranges is None:
        ranges = [layer % (n_qubits - 1) + 1 if n_qubits > 1 else 0 for layer in range(layers)]
    ranges = list(ranges)
    if len(ranges) != layers or any(isinstance(r, bool) or not isinstance(r, int) or not 0 < r < n_qubits
                                    for r in ranges if n_qubits > 1):
        raise InputError(f"ranges must give one range in [1, {n_qubits - 1}] per layer ({layers}), got {ranges!r}")
    names = fresh_names(circuit, [f"{prefix}{layer}_{q}_{k}" for layer in range(layers)
                                  for q in range(n_qubits) for k in range(3)])
    weights = iter(names)
    for layer in range(layers):
        for q in range(n_qubits):
            circuit.rz(q, next(weights)).ry(q, next(weights)).rz(q, next(weights))
        if n_qubits > 1:
            for q in range(n_qubits):
                circuit.cx(q, (q + ranges[layer]) % n_qubits)
    return circuit, names


def basic_entangler(n_qubits: int, layers: int, *, rotation: str = "rx", prefix: str = "w",
                    circuit: Circuit | None = None) -> tuple[Circuit, list[str]]:
    """``layers`` x (one ``rotation`` per qubit, then a CNOT ring: one CNOT for two qubits, none for one).

    Weights ``{prefix}{layer}_{qubit}``.
    """
    circuit = target_circuit(n_qubits, circuit)
    gate = check_rotation(rotation)
    pairs = entangling_pairs(n_qubits, "ring")
    names = fresh_names(circuit, [f"{prefix}{layer}_{q}" for layer in range(positive_int(layers, "layers"))
                                  for q in range(n_qubits)])
    weights = iter(names)
    for _ in range(layers):
        for q in range(n_qubits):
            circuit.append(gate, (q,), (next(weights),))
        for control, target in pairs:
            circuit.cx(control, target)
    return circuit, names


# -- photonic ---------------------------------------------------------------------------------
def _interferometer(circuit: PhotonicCircuit, names: list[str], tag: str) -> None:
    """A trainable interferometer on all modes: Clements' rectangular mesh of M(M-1)/2 beamsplitters
    BS(theta, phi), then a rotation per mode (as Strawberry Fields' and PennyLane's templates)."""
    modes = circuit.n_modes
    count = 0
    for depth in range(modes):
        for first in range(depth % 2, modes - 1, 2):
            circuit.bs(first, first + 1, f"{tag}_theta{count}", f"{tag}_phi{count}")
            names += [f"{tag}_theta{count}", f"{tag}_phi{count}"]
            count += 1
    for mode in range(modes):
        circuit.r(mode, f"{tag}_rot{mode}")
        names.append(f"{tag}_rot{mode}")


def cv_neural_net(n_modes: int, layers: int = 1, *, prefix: str = "w",
                  circuit: PhotonicCircuit | None = None) -> tuple[PhotonicCircuit, list[str]]:
    """Killoran et al.'s CV neural-network layers (2019): interferometer, squeezers, interferometer,
    displacements, Kerr gates on every mode, ``layers`` times.

    Weights ``{prefix}{layer}_{part}...``: interferometers ``int1``/``int2`` (beamsplitter ``theta``/``phi``,
    rotations ``rot``), squeezing ``sq_r``/``sq_phi``, displacement ``d_r``/``d_phi``, Kerr ``kerr``.
    """
    positive_int(n_modes, "n_modes")
    if circuit is None:
        circuit = PhotonicCircuit(n_modes)
    elif not isinstance(circuit, PhotonicCircuit) or circuit.n_modes != n_modes:
        raise InputError(f"circuit= must be a qvec.photonic.Circuit of {n_modes} modes, got {circuit!r}")
    block, names = PhotonicCircuit(n_modes, hbar=circuit.hbar), []
    for layer in range(positive_int(layers, "layers")):
        tag = f"{prefix}{layer}_"
        _interferometer(block, names, f"{tag}int1")
        for mode in range(n_modes):
            block.s(mode, f"{tag}sq_r{mode}", f"{tag}sq_phi{mode}")
            names += [f"{tag}sq_r{mode}", f"{tag}sq_phi{mode}"]
        _interferometer(block, names, f"{tag}int2")
        for mode in range(n_modes):
            block.d(mode, f"{tag}d_r{mode}", f"{tag}d_phi{mode}")
            block.k(mode, f"{tag}kerr{mode}")
            names += [f"{tag}d_r{mode}", f"{tag}d_phi{mode}", f"{tag}kerr{mode}"]
    fresh_names(circuit, names)
    for op in block:
        circuit.append(op.name, op.modes, op.params, op.data)
    return circuit, names
