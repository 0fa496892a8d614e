"""Photonic (continuous-variable) circuits on the local Fock-space simulator.

1. Coherent states, a batch of displacements r: D(r) on the vacuum gives mean photon number r**2
   and Poisson photon-number probabilities exp(-r**2) r**(2n) / n!; d<n>/dr = 2r by autograd.
2. Hong-Ou-Mandel: one photon in each input of a 50:50 beamsplitter leaves both photons in the
   same output, P(2, 0) = P(0, 2) = 1/2 and P(1, 1) = 0.

Run: python examples/photonic_fock.py
"""

import torch

import qvec

CUTOFF = 12   # Fock levels kept per mode; a coherent state with r <= 1 loses < 1e-6 of its norm


def coherent_states() -> None:
    circuit = qvec.photonic.Circuit(1)
    circuit.d(0, "r")                                   # displacement by alpha = r (phase 0)
    r = torch.tensor([0.5, 1.0], dtype=torch.float64, requires_grad=True)
    state = circuit.run(params={"r": r}, cutoff=CUTOFF, dtype=torch.complex128)
    mean = state.mean_photon(0)                         # Tensor [2]
    (grad,) = torch.autograd.grad(mean.sum(), r)
    print("r:", *(f"{v:.6f}" for v in r.tolist()))
    print("mean photon number:", *(f"{v:.6f}" for v in mean.tolist()))
    print("d<n>/dr:", *(f"{v:.6f}" for v in grad.tolist()))
    probabilities = state.fock_probs()                  # Tensor [2, CUTOFF]
    for row, value in enumerate(r.tolist()):
        print(f"P(n) for r={value:.1f}, n=0..3:", *(f"{p:.6f}" for p in probabilities[row, :4].tolist()))


def hong_ou_mandel() -> None:
    circuit = qvec.photonic.Circuit(2)
    circuit.fock(0, 1).fock(1, 1)                       # one photon in each mode
    circuit.bs(0, 1)                                    # theta = pi/4: a 50:50 beamsplitter
    probabilities = circuit.run(cutoff=3).fock_probs()[0]   # [3, 3]: P(n0, n1)
    print("HOM P(2,0) P(1,1) P(0,2):", *(f"{probabilities[a, b].item():.6f}" for a, b in [(2, 0), (1, 1), (0, 2)]))


if __name__ == "__main__":
    coherent_states()
    hong_ou_mandel()
