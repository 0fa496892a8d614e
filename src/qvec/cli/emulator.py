"""``qvec emulator``: serve the IonQ-compatible API on this machine (offline work, tests, benchmarks)."""

from __future__ import annotations

import click

__all__ = ["command"]

_RATE = click.FloatRange(0.0, 1.0)
_SECONDS = click.FloatRange(min=0.0)


_FAULT_OPTIONS = ("error_rate", "rate_limit_rate", "retry_after", "drop_rate", "slow_rate", "slow_seconds",
                  "lost_answer_rate", "truncate_rate", "missing_result_rate", "empty_result_rate",
                  "unnormalized_result_rate", "fail_rate", "stuck_rate", "endpoints")


@click.command("emulator")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", default=0, show_default=True, type=click.IntRange(0, 65535), help="Port; 0 picks a free one.")
@click.option("--latency", default=0.0, show_default=True, type=_SECONDS, help="Seconds each job runs, holding a slot.")
@click.option("--queue-latency", default=0.0, show_default=True, type=_SECONDS, help="Seconds a job waits before it may start.")
@click.option("--latency-per-circuit", default=0.0, show_default=True, type=_SECONDS, help="Extra run time per circuit of a job.")
@click.option("--capacity", default=10, show_default=True, type=click.IntRange(min=1), help="Jobs running at once.")
@click.option("--api-key", "api_keys", multiple=True, help="Accepted key (repeatable); default: $IONQ_API_KEY.")
@click.option("--rate-limit", type=click.FloatRange(min=0.0, min_open=True), default=None,
              help="Requests per second per key; beyond it: 429 with Retry-After (whole seconds).")
@click.option("--admin", is_flag=True, help="Serve /admin/counters (jobs per idempotency key, requests per status).")
@click.option("--max-qubits", default=22, show_default=True, type=click.IntRange(1, 29), help="Widest job simulated.")
@click.option("--seed", default=0, show_default=True, help="Seed of shot sampling for QPU and noisy targets.")
@click.option("--memory-budget", "memory_budget_mib", default=4096, show_default=True, type=click.IntRange(min=1),
              help="MiB that jobs in flight (at their largest) and kept results may take; beyond: 400, or 503 until freed.")
@click.option("--results-ttl", default=3600.0, show_default=True, type=_SECONDS,
              help="Seconds a finished job's results are kept (then answered 410).")
@click.option("--results-kept", default=1000, show_default=True, type=click.IntRange(min=0),
              help="Finished jobs whose results are kept, newest first.")
@click.option("--fault-seed", default=0, show_default=True, help="Seed of fault injection.")
@click.option("--error-rate", default=0.0, type=_RATE, help="Share of requests answered 502/503/504/52x.")
@click.option("--rate-limit-rate", default=0.0, type=_RATE, help="Share of requests answered 429.")
@click.option("--retry-after", default=0.1, show_default=True, type=_SECONDS, help="Retry-After of injected 429s.")
@click.option("--drop-rate", default=0.0, type=_RATE, help="Share of connections dropped unanswered.")
@click.option("--slow-rate", default=0.0, type=_RATE, help="Share of answers held back --slow-seconds.")
@click.option("--slow-seconds", default=1.0, show_default=True, type=_SECONDS)
@click.option("--lost-answer-rate", default=0.0, type=_RATE, help="Share of job submissions whose answer is lost.")
@click.option("--truncate-rate", default=0.0, type=_RATE, help="Share of success answers cut in half (malformed JSON).")
@click.option("--missing-result-rate", default=0.0, type=_RATE, help="Share of jobs whose results lack an entry.")
@click.option("--empty-result-rate", default=0.0, type=_RATE, help="Share of jobs whose results hold an empty one.")
@click.option("--unnormalized-result-rate", default=0.0, type=_RATE, help="Share of jobs with one result halved.")
@click.option("--fault-endpoint", "endpoints", multiple=True,
              help="An endpoint the request faults hit, e.g. 'POST /jobs' (repeatable; default: all).")
@click.option("--fail-rate", default=0.0, type=_RATE, help="Share of jobs that fail.")
@click.option("--stuck-rate", default=0.0, type=_RATE, help="Share of jobs that never finish.")
def command(host: str, port: int, api_keys: tuple[str, ...], fault_seed: int, **options: object) -> None:
    """Serve the IonQ API (v0.4) under /v0.4.

    Prints 'listening on http://HOST:PORT' first, then the API base for clients: 'IONQ_BASE_URL=http://HOST:PORT/v0.4'.
    """
    from qvec.backends.ionq.settings import environment_value  # here, so that --help needs no torch
    from qvec.emulator import Emulator, EmulatorConfig, Faults

    keys = api_keys or tuple(filter(None, [environment_value("IONQ_API_KEY")]))
    if not keys:
        raise click.UsageError("the emulator needs an API key: pass --api-key KEY or set IONQ_API_KEY")
    faults = Faults(seed=fault_seed, **{name: options.pop(name) for name in _FAULT_OPTIONS})
    config = EmulatorConfig(api_keys=keys, faults=faults, memory_budget=options.pop("memory_budget_mib") * 2**20,
                            **options)
    emulator = Emulator(config, host=host, port=port).start()
    click.echo(f"listening on {emulator.url}", color=False)
    click.echo(f"IONQ_BASE_URL={emulator.base_url}", color=False)
    try:
        emulator.wait()
    except KeyboardInterrupt:
        click.echo("stopping", err=True)
    finally:
        emulator.stop()
