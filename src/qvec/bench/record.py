"""What every ``qvec bench`` JSON carries: the machine, the load around the run, the command that reproduces it."""

from __future__ import annotations

import importlib.metadata
import json
import os
import platform
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable

import click

from .timing import machine_info

__all__ = ["LoadWatch", "command_line", "cpu_model", "machine", "package_version", "write_record"]


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (Linux), else what ``platform`` knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def package_version(name: str) -> str | None:
    """The installed version of distribution ``name``, None when it is not installed (found without importing it)."""
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def machine(packages: Iterable[str] = ()) -> dict[str, Any]:
    """``machine_info()`` plus the CPU model and the versions of ``packages`` (None: not installed)."""
    return {**machine_info(), "cpu_model": cpu_model(), "qvec": package_version("qvec"),
            "versions": {name: package_version(name) for name in packages}}


class LoadWatch:
    """The 1/5/15-minute load averages at the start and at the end of a run: the machine is shared, and a
    figure taken under load is compared only within its own run."""

    def __init__(self) -> None:
        self.start = os.getloadavg()

    def as_dict(self) -> dict[str, list[float]]:
        return {"start": [round(v, 2) for v in self.start], "end": [round(v, 2) for v in os.getloadavg()]}


def command_line(context: click.Context) -> str:
    """The ``qvec bench ...`` line that reruns this subcommand with every option as it was given or defaulted."""
    words = ["qvec", "bench", context.info_name or context.command.name or ""]
    for parameter in context.command.params:
        value = context.params.get(parameter.name)
        flag = parameter.opts[0] if isinstance(parameter, click.Option) else None
        if flag is None or value is None or value is False or (isinstance(value, tuple) and not value):
            continue
        if value is True and parameter.is_flag:
            words.append(flag)
        elif isinstance(value, tuple):
            words += [part for item in value for part in (flag, str(item))]
        elif isinstance(value, list):  # a comma-separated option, parsed to a list
            words += [flag, ",".join(map(str, value))]
        else:
            words += [flag, str(value)]
    return " ".join(words)


def write_record(path: Path, benchmark: str, command: str, load: LoadWatch, packages: Iterable[str],
                 **content: Any) -> None:
    """Write one benchmark's JSON: its name, the command, the date, the machine and load, then ``content``."""
    record = {"benchmark": benchmark, "command": command,
              "date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "machine": machine(packages),
              "load_average_1_5_15_min": load.as_dict(), **content}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=2) + "\n")
