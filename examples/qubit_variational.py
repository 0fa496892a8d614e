"""A small variational circuit on the local simulator: a batch of inputs, expectation values, gradients.

    RY(x) on qubit 0 (one x per row), RY(w) on qubit 1 (a weight shared by the batch), CNOT 0 -> 1.

Textbook values: <Z0> = cos x, <Z1> = cos x cos w, <Z0 Z1> = cos w, so the gradient of
sum over rows of <Z1> with respect to w is -sin w * sum(cos x). A few gradient steps then turn w
towards pi, where sum(<Z1>) is smallest. Run: python examples/qubit_variational.py
"""

import torch

import qvec


def build() -> qvec.Circuit:
    circuit = qvec.Circuit(2)
    circuit.ry(0, "x")   # data: one angle per row of the batch
    circuit.ry(1, "w")   # weight: one angle shared by every row
    circuit.cx(0, 1)
    return circuit


def main() -> None:
    circuit = build()
    x = torch.tensor([0.0, 0.5, 1.0])                  # a batch of 3 rows
    w = torch.tensor(0.3, requires_grad=True)
    values = circuit.expval(["Z0", "Z1", "Z0 Z1"], params={"x": x, "w": w})   # Tensor [3, 3]
    loss = values[:, 1].sum()
    loss.backward()
    print("x:", *(f"{v:.6f}" for v in x.tolist()))
    for column, name in enumerate(["<Z0>", "<Z1>", "<Z0 Z1>"]):
        print(f"{name}:", *(f"{v:.6f}" for v in values[:, column].tolist()))
    print(f"d sum<Z1> / dw: {w.grad.item():.6f}")

    optimizer = torch.optim.SGD([w], lr=0.2)
    for _ in range(50):
        optimizer.zero_grad()
        loss = circuit.expval(["Z1"], params={"x": x, "w": w}).sum()
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        trained = circuit.expval(["Z1"], params={"x": x, "w": w}).sum()
    print(f"w after 50 steps: {w.item():.6f}")
    print(f"sum<Z1> after 50 steps: {trained.item():.6f}")


if __name__ == "__main__":
    main()
