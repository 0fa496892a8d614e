"""Journal test helpers: a batch left as a killed process leaves it, and a program that runs one batch.

The kill tests start this file as a subprocess, kill it while its jobs are in flight, and run it again:
``python journal_batch.py BASE_URL OUT.json`` (the key comes from IONQ_API_KEY, the journal from QVEC_JOURNAL).
"""

import json
import os
import sys
from pathlib import Path

import qvec
from qvec.backends import IonQBackend
from qvec.backends.ionq import PollPolicy
from qvec.backends.ionq.journal import JobJournal, account_of
from qvec.backends.ionq.strategies import run_sync

CIRCUITS = 4


def batch_circuits() -> list[qvec.Circuit]:
    """Four different 3-qubit circuits: one job each with the concurrent strategy."""
    circuits = []
    for i in range(CIRCUITS):
        circuit = qvec.Circuit(3)
        circuit.h(0).ry(1, 0.3 * (i + 1)).cx(0, 2).rx(2, 0.1 * i)
        circuits.append(circuit)
    return circuits


def crashed_batch(backend, batch, submitted=(), posted_unanswered=()):
    """Leave a journal as a process killed mid-batch would: units in ``submitted`` have a job on the server and
    their id recorded; units in ``posted_unanswered`` were POSTed (the job exists) but the answer never arrived."""
    units = backend._prepare(batch, None, None, None)
    with JobJournal(Path(os.environ["QVEC_JOURNAL"])) as journal:
        record = journal.claim(backend.settings.base_url, backend.settings.target, None, units,
                             account_of(backend.settings.api_key))

        async def post(unit):
            async with backend.make_client() as client:
                return await client.create_job(unit.body, unit.key, 1.0)

        for index in (*submitted, *posted_unanswered):
            unit = units[index]
            unit.state, unit.first_submitted = "submitting", 1.0
            record.record(unit)
            created = run_sync(post(unit))
            if index in submitted:
                unit.job_id, unit.state = created["id"], "running"
                record.record(unit)
        record.release(delivered=False)
    return units


def main(base_url: str, out: str) -> None:
    backend = IonQBackend(base_url=base_url, env_file=None, strategy="concurrent",
                          poll=PollPolicy(initial=0.01, factor=1.5, maximum=0.1))
    results = backend.run_circuits(batch_circuits())
    Path(out).write_text(json.dumps([probabilities.tolist() for probabilities in results]))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
