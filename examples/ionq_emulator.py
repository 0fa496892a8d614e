"""The IonQ backend against qvec's IonQ-compatible emulator, all on this machine.

Starts ``qvec emulator --port 0 --api-key KEY`` as a subprocess, reads the URL from its first
line, runs the Bell circuit of ``bell.qasm`` on the ideal simulator target (exact probabilities:
0.5 for |00> and |11>) and with 1,000 shots (seeded counts, only 00 and 11), then stops the server.
Against the real service, drop the emulator and pass your key (or set IONQ_API_KEY) instead.

Run: python examples/ionq_emulator.py
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from qvec.backends import IonQBackend
from qvec.circuit import load_qasm

KEY = "example-key"   # the emulator accepts any key it is given; the real API needs yours
BELL = Path(__file__).with_name("bell.qasm")


def qvec_command() -> str:
    """The ``qvec`` script of this Python environment (it need not be on PATH)."""
    search = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    found = shutil.which("qvec", path=search)
    if found is None:
        raise SystemExit("the qvec command is not installed in this environment: pip install -e .")
    return found


def start_emulator() -> tuple[subprocess.Popen, str]:
    """Start the emulator; return the process and the API base URL read from its first line."""
    process = subprocess.Popen([qvec_command(), "emulator", "--port", "0", "--api-key", KEY],
                               stdout=subprocess.PIPE, text=True)
    first_line = process.stdout.readline()
    server = re.search(r"http://[\w.\-]+:\d+", first_line)   # "listening on http://127.0.0.1:PORT ..."
    if server is None:
        process.kill()
        raise SystemExit(f"the emulator did not start; its first line was {first_line!r}")
    return process, server.group(0) + "/v0.4"


def main() -> None:
    bell = load_qasm(BELL)
    process, base_url = start_emulator()
    try:
        exact = IonQBackend(api_key=KEY, base_url=base_url, target="simulator")
        print("probabilities:", *(f"{p:.6f}" for p in bell.probs(backend=exact)[0].tolist()))
        states = bell.sample(1000, backend=exact, seed=7)[0]   # 1,000 basis states, qubit 0 least significant
        print("counts of 00 01 10 11:", *(int((states == k).sum()) for k in range(4)))
    finally:
        process.terminate()   # SIGTERM: uvicorn shuts down cleanly, even where SIGINT is ignored
        process.wait(timeout=30)


if __name__ == "__main__":
    main()
