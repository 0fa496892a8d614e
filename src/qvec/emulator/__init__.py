"""An IonQ-compatible HTTP server for offline work, tests and benchmarks (``qvec emulator``)."""

from .config import EmulatorConfig, Faults
from .server import Emulator, EmulatorError

__all__ = ["Emulator", "EmulatorConfig", "EmulatorError", "Faults"]
