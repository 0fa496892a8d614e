"""A program that runs one multi-job batch on an IonQ emulator and writes its probabilities as JSON.

The journal tests start it as a subprocess, kill it while its jobs are in flight, and run it again:
``python journal_batch.py BASE_URL OUT.json`` (the key comes from IONQ_API_KEY, the journal from QVEC_JOURNAL).
"""

import json
import sys
from pathlib import Path

import qvec
from qvec.backends import IonQBackend
from qvec.backends.ionq import PollPolicy

CIRCUITS = 4


def batch_circuits() -> list[qvec.Circuit]:
    """Four different 3-qubit circuits: one job each with the concurrent strategy."""
    circuits = []
    for i in range(CIRCUITS):
        circuit = qvec.Circuit(3)
        circuit.h(0).ry(1, 0.3 * (i + 1)).cx(0, 2).rx(2, 0.1 * i)
        circuits.append(circuit)
    return circuits


def main(base_url: str, out: str) -> None:
    backend = IonQBackend(base_url=base_url, env_file=None, strategy="concurrent",
                          poll=PollPolicy(initial=0.01, factor=1.5, maximum=0.1))
    results = backend.run_circuits(batch_circuits())
    Path(out).write_text(json.dumps([probabilities.tolist() for probabilities in results]))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
