"""Strawberry Fields' TensorFlow backend on a circuit given as JSON on stdin; prints one JSON line of figures.

Run by ``qvec bench cv --sf-python PATH`` with an interpreter of an environment that has Strawberry Fields
(numpy < 2, TensorFlow 2.15). It imports nothing from qvec. The job: ``n_modes``, ``cutoff``, ``batch``,
``operations`` (``inputs``, ``weights`` names and ``operations`` with qvec's gate names), ``weights`` and
``inputs [batch, len(inputs)]``, ``min_seconds``, ``repeats``. One step is the forward and backward pass of
the summed <x> and <n> of every mode, as qvec's step; the outputs of the first step are returned too.
"""

import json
import sys
import time

import strawberryfields as sf
import tensorflow as tf
from strawberryfields import ops

GATES = {"d": ops.Dgate, "s": ops.Sgate, "bs": ops.BSgate, "r": ops.Rgate, "k": ops.Kgate}


def main() -> None:
    job = json.load(sys.stdin)
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

    start = time.perf_counter()
    first = step()
    first_s = time.perf_counter() - start
    rates = []
    for _ in range(job["repeats"]):
        count, start = 0, time.perf_counter()
        while True:
            step()
            count += 1
            elapsed = time.perf_counter() - start
            if elapsed >= job["min_seconds"]:
                break
        rates.append(count * batch / elapsed)
    rates.sort()
    print(json.dumps({"samples_per_s": rates[len(rates) // 2], "min": rates[0], "max": rates[-1],
                      "first_step_s": round(first_s, 3), "strawberryfields": sf.__version__,
                      "tensorflow": tf.__version__, "values": first.numpy().tolist()}))


if __name__ == "__main__":
    main()
