"""Strawberry Fields' TensorFlow backend as a measuring worker of ``qvec bench cv --sf-python PATH``.

Run with an interpreter of an environment that has Strawberry Fields (numpy < 2, TensorFlow 2.15, Python
3.11); it imports nothing from qvec, so it speaks the worker protocol of ``qvec.bench.workers`` itself: the
job as one JSON line on stdin (``n_modes``, ``cutoff``, ``batch``, ``min_seconds``, ``operations``: ``inputs``,
``weights`` names and ``operations`` with qvec's gate names, ``weights`` and ``inputs [batch, len(inputs)]``);
then it times its first step and one warm-up step and answers one JSON line (``first_step_s``, versions, the
first step's outputs as ``values``), each ``window`` line with one window's samples/s and ``finish`` with its
peak-memory growth. The parent measures every engine in interleaved rounds of one window each, so the
machine's drift (up to 2x within minutes) reaches them alike. One step is the forward and backward pass of
the summed <x> and <n> of every mode, as qvec's step.
"""

import json
import os
import resource
import sys
import time

import strawberryfields as sf
import tensorflow as tf
from strawberryfields import ops

GATES = {"d": ops.Dgate, "s": ops.Sgate, "bs": ops.BSgate, "r": ops.Rgate, "k": ops.Kgate}


def build_step(job):
    """The step on the job's circuit, weights and inputs; it returns the outputs ``[batch, 2 * n_modes]``."""
    circuit, batch, n_modes = job["operations"], job["batch"], job["n_modes"]
    program = sf.Program(n_modes)
    symbols = {name: program.params(name) for name in circuit["inputs"] + circuit["weights"]}
    with program.context as q:
        for op in circuit["operations"]:
            arguments = [symbols[p] if isinstance(p, str) else p for p in op["params"]]
            GATES[op["name"]](*arguments) | tuple(q[m] for m in op["modes"])
    # The TF backend refuses batch_size 1: one row runs unbatched, its inputs as scalars.
    engine = sf.Engine("tf", backend_options={"cutoff_dim": job["cutoff"], "batch_size": batch if batch > 1 else None})
    weights = tf.Variable(tf.constant(job["weights"], dtype=tf.float32))
    inputs = tf.constant(job["inputs"], dtype=tf.float32)

    def step():
        with tf.GradientTape() as tape:
            bound = {name: weights[i] for i, name in enumerate(circuit["weights"])}
            bound.update({name: inputs[:, i] if batch > 1 else inputs[0, i] for i, name in enumerate(circuit["inputs"])})
            if engine.run_progs:
                engine.reset()
            state = engine.run(program, args=bound).state
            outputs = tf.stack([state.quad_expectation(m)[0] for m in range(n_modes)]
                               + [state.mean_photon(m)[0] for m in range(n_modes)], axis=-1)
            total = tf.reduce_sum(outputs)
        tape.gradient(total, weights)
        return tf.reshape(outputs, [batch, 2 * n_modes])

    return step


def window(step, batch, min_seconds):
    """Samples/s of one window: steps until at least ``min_seconds`` have passed."""
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < min_seconds or count == 0:
        step()
        count += 1
    return count * batch / (time.perf_counter() - start)


def main() -> None:
    answers = os.fdopen(os.dup(1), "w")  # protocol lines only: a library's prints go to stderr
    os.dup2(2, 1)

    def reply(answer):
        print(json.dumps(answer), file=answers, flush=True)

    job = json.loads(sys.stdin.readline())
    step = build_step(job)
    start = time.perf_counter()
    first = step()
    first_s = time.perf_counter() - start
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    step()
    reply({"first_step_s": round(first_s, 3), "strawberryfields": sf.__version__, "tensorflow": tf.__version__,
           "values": first.numpy().tolist()})
    for command in sys.stdin:
        if command.strip() != "window":  # "finish"
            reply({"peak_rss_mib": round((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - baseline) / 1024, 1)})
            return
        step()  # untimed: the engine measured before this one has had the caches
        reply({"samples_per_s": window(step, job["batch"], job["min_seconds"])})


if __name__ == "__main__":
    main()
