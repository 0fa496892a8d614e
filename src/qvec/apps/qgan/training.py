"""Training the CV GAN: WGAN-GP with ``n_critic`` critic steps per generator step, Adam on both, an epoch of
``steps_per_epoch`` generator steps, metrics and a checkpoint at the end of every epoch (``RunDir``).

All randomness (latent rows, target batches, homodyne draws, the penalty's mixing) comes from one
``torch.Generator`` saved in the checkpoint, so a resumed run replays the uninterrupted one exactly.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import torch

from qvec.apps.runlog import RunDir, defer_interrupts
from qvec.errors import InputError

from .critic import Critic, gradient_penalty
from .generator import Grid, QuantumGenerator
from .metrics import mode_coverage, sliced_wasserstein, wasserstein_assignment
from .targets import Target, target_by_name, target_from_file

__all__ = ["EpochView", "QGANConfig", "TrainingResult", "build_models", "evaluate", "make_grid", "resolve_target", "train"]

GRID_MARGIN = 1.0  # beyond the target's samples, so the generator's tails are seen
VACUUM_REACH = 3.0  # the vacuum's x density (std 1 at hbar = 2) stays on the grid from the first step
ASSIGNMENT_POINTS = 1024  # points of the exact 2-D W1 (an optimal matching, cubic in this count)
EVAL_SEED_OFFSET = 7919  # the evaluation draws' seed, apart from the training generator's
ADAM_BETAS = (0.5, 0.9)  # a short first-moment memory, usual for GANs' moving targets (WGAN-GP used 0 and 0.9)


@dataclass(frozen=True)
class QGANConfig:
    """Every setting of a run (what ``config.json`` records); ``modes`` None means one mode per coordinate."""

    target: str = "gaussian"
    target_file: str | None = None
    modes: int | None = None
    layers: int = 2
    cutoff: int = 12
    readout: str = "density"
    latent_dim: int | None = None
    epochs: int = 20
    steps_per_epoch: int = 20
    batch_size: int = 64
    g_lr: float = 0.02
    d_lr: float = 0.002
    lr_final: float = 0.1
    n_critic: int = 5
    gp_weight: float = 10.0
    norm_weight: float = 10.0
    critic_hidden: int = 64
    grid_points: int | None = None
    eval_samples: int = 2048
    plot_every: int = 5
    seed: int = 0

    def record(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class EpochView:
    """What an ``on_epoch`` hook sees after an epoch's checkpoint: the history so far (the epoch's row last),
    the generated points it was measured on, the fixed reference sample of the target, and the grid."""

    history: list[dict[str, Any]]
    generated: torch.Tensor
    reference: torch.Tensor
    grid: Grid
    target: Target

    @property
    def row(self) -> dict[str, Any]:
        return self.history[-1]


@dataclass
class TrainingResult:
    """What a run reached: its metrics per epoch, whether Ctrl-C stopped it, and what it kept."""

    history: list[dict[str, Any]]
    interrupted: bool
    kept: str
    out: Path
    target: Target


def resolve_target(config: QGANConfig) -> Target:
    return target_from_file(config.target_file) if config.target_file else target_by_name(config.target)


def make_grid(target: Target, points: int | None, seed: int) -> Grid:
    """A square grid over the target's samples plus ``GRID_MARGIN`` (and the vacuum's reach)."""
    sample = target.sample(4096, torch.Generator().manual_seed(seed + EVAL_SEED_OFFSET))
    low = min(float(sample.min()) - GRID_MARGIN, -VACUUM_REACH)
    high = max(float(sample.max()) + GRID_MARGIN, VACUUM_REACH)
    points = points if points is not None else (160 if target.dim == 1 else 48)
    if points < 8:
        raise InputError(f"--grid-points {points}: needs at least 8")
    return Grid(low, high, points, target.dim)


def build_models(config: QGANConfig, target: Target, backend: Any = None) -> tuple[QuantumGenerator, Critic]:
    """The untrained generator and critic of ``config`` (seeded: the same config, the same weights); the
    generator's circuit runs on ``backend`` (``None``: the local simulator; a ``DaskBackend`` shards it)."""
    modes = target.dim if config.modes is None else config.modes
    if modes < target.dim:
        raise InputError(f"--modes {modes}: fewer than the target's {target.dim} coordinates (one output mode each)")
    generator = QuantumGenerator(make_grid(target, config.grid_points, config.seed), layers=config.layers,
                                 cutoff=config.cutoff, readout=config.readout, ancillas=modes - target.dim,
                                 latent_dim=config.latent_dim, seed=config.seed, backend=backend)
    with torch.random.fork_rng():
        torch.manual_seed(config.seed)
        critic = Critic(target.dim, config.critic_hidden)
    return generator, critic


def _critic_steps(generator: QuantumGenerator, critic: Critic, optimizer: torch.optim.Optimizer, target: Target,
                  config: QGANConfig, rng: torch.Generator) -> float:
    """``n_critic`` Adam steps on the WGAN-GP critic loss; the fakes of all come from one Fock simulation."""
    batch = config.batch_size
    fakes = generator.sample(config.n_critic * batch, rng, chunk=config.n_critic * batch)
    total = 0.0
    for step in range(config.n_critic):
        real = target.sample(batch, rng).float()
        fake = fakes[step * batch:(step + 1) * batch]
        mixing = torch.rand(batch, generator=rng)
        loss = critic(fake).mean() - critic(real).mean() + config.gp_weight * gradient_penalty(critic, real, fake, mixing)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total += float(loss.detach())
    return total / config.n_critic


def _expected_score(generator: QuantumGenerator, critic: Critic, state: Any, draws: int,
                    rng: torch.Generator) -> torch.Tensor:
    """A differentiable stand-in for ``E[D(x)]`` under the generator, whose gradient is the true one (exact for
    ``density`` and ``mean``; for ``sample``, the score-function estimate from ``draws`` homodyne draws, each
    with the mean score of the others as its baseline, which lowers the variance and adds no bias)."""
    if generator.readout == "mean":
        return critic(generator.means(state).float()).mean()
    probabilities = generator.cell_probabilities(state)
    if generator.readout == "density":
        return (probabilities.mean(dim=0) * critic(generator.cell_points)).sum()
    rows, cells = generator.sample_cells(probabilities, draws, rng)
    scores = critic(generator.cell_samples(cells, rng)).detach()
    others_mean = (scores.sum() - scores) / max(draws - 1, 1)
    log_probability = probabilities[rows, cells].clamp_min(torch.finfo(probabilities.dtype).tiny).log()
    return ((scores - others_mean) * log_probability).mean()


def _generator_step(generator: QuantumGenerator, critic: Critic, optimizer: torch.optim.Optimizer,
                    config: QGANConfig, rng: torch.Generator) -> tuple[float, float]:
    """One Adam step on ``-E[D(G(z))] + norm_weight * lost norm``; returns (loss, largest lost norm of a row)."""
    critic.requires_grad_(False)
    state = generator.run(generator.latent(config.batch_size, rng))
    lost = generator.lost_norm(state)
    loss = -_expected_score(generator, critic, state, config.batch_size, rng) + config.norm_weight * lost.mean()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    critic.requires_grad_(True)
    return float(loss.detach()), float(lost.detach().max())


def evaluate(generator: QuantumGenerator, target: Target, reference: torch.Tensor, epoch: int,
             seed: int) -> tuple[dict[str, Any], torch.Tensor]:
    """The epoch's metrics from ``len(reference)`` generated points (seeded by ``seed`` and ``epoch``), and the points."""
    generated = generator.sample(reference.shape[0], torch.Generator().manual_seed(seed * 100_003 + epoch))
    generated = generated.double()
    row: dict[str, Any] = {"w1": float(sliced_wasserstein(generated, reference))}
    if target.dim > 1:
        count = min(ASSIGNMENT_POINTS, reference.shape[0])
        row["w1_matching"] = wasserstein_assignment(generated[:count], reference[:count])
    for axis, name in enumerate("xy"[:target.dim]):
        row[f"mean_{name}"] = float(generated[:, axis].mean())
        row[f"std_{name}"] = float(generated[:, axis].std())
    coverage = mode_coverage(generated, target)
    if coverage is not None:
        row.update(modes_covered=coverage.covered, modes_total=coverage.total, on_target=coverage.on_target)
    return row, generated


EpochHook = Callable[[int, int, dict[str, float]], None]


@dataclass
class _Models:
    """The two networks and their optimizers: what a checkpoint saves and a resumed run loads."""

    generator: QuantumGenerator
    critic: Critic
    g_optimizer: torch.optim.Optimizer
    d_optimizer: torch.optim.Optimizer

    def state_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name).state_dict() for name in _MODEL_PARTS}

    def load_state_dict(self, saved: dict[str, Any]) -> None:
        for name in _MODEL_PARTS:
            getattr(self, name).load_state_dict(saved[name])


_MODEL_PARTS = ("generator", "critic", "g_optimizer", "d_optimizer")


def _run_epoch(models: _Models, target: Target, config: QGANConfig, rng: torch.Generator, epoch: int,
               on_step: EpochHook | None) -> dict[str, float]:
    """``steps_per_epoch`` rounds of critic steps then a generator step: the mean losses, the largest lost norm."""
    sums, lost_norm = {"critic_loss": 0.0, "generator_loss": 0.0}, 0.0
    for step in range(1, config.steps_per_epoch + 1):
        critic_loss = _critic_steps(models.generator, models.critic, models.d_optimizer, target, config, rng)
        generator_loss, lost = _generator_step(models.generator, models.critic, models.g_optimizer, config, rng)
        sums["critic_loss"] += critic_loss
        sums["generator_loss"] += generator_loss
        lost_norm = max(lost_norm, lost)
        if on_step is not None:
            on_step(epoch, step, {"critic_loss": critic_loss, "generator_loss": generator_loss})
    return {**{key: value / config.steps_per_epoch for key, value in sums.items()}, "lost_norm": lost_norm}


def _set_learning_rates(optimizers: dict[torch.optim.Optimizer, float], config: QGANConfig, epoch: int) -> None:
    """Linear decay from each base rate to ``lr_final`` times it at the last epoch, so the generator settles
    instead of circling the target at the step size (a function of the epoch alone: nothing to checkpoint; a
    run resumed with a larger ``epochs`` stretches the rest of its decay over the new length)."""
    progress = (epoch - 1) / max(config.epochs - 1, 1)
    for optimizer, base in optimizers.items():
        for group in optimizer.param_groups:
            group["lr"] = base * (1 - (1 - config.lr_final) * progress)


def _check(config: QGANConfig) -> None:
    for name in ("layers", "cutoff", "epochs", "steps_per_epoch", "batch_size", "n_critic", "critic_hidden",
                 "eval_samples", "plot_every"):
        if getattr(config, name) < 1:
            raise InputError(f"--{name.replace('_', '-')} {getattr(config, name)}: must be at least 1")
    for name in ("g_lr", "d_lr"):
        if not getattr(config, name) > 0:
            raise InputError(f"--{name.replace('_', '-')} {getattr(config, name)}: must be positive")
    if not 0 < config.lr_final <= 1:
        raise InputError(f"--lr-final {config.lr_final}: must be in (0, 1] (a fraction of the base learning rates)")
    for name in ("gp_weight", "norm_weight"):
        if not getattr(config, name) >= 0:
            raise InputError(f"--{name.replace('_', '-')} {getattr(config, name)}: must be zero or positive")


def train(config: QGANConfig, out: Path | str, *, resume: bool = False, on_step: EpochHook | None = None,
          on_epoch: Callable[[EpochView], None] | None = None, backend: Any = None) -> TrainingResult:
    """Train (or resume) a CV GAN into ``out``; Ctrl-C ends it after the last completed epoch's checkpoint.

    ``on_step(epoch, step, losses)`` runs after each generator step, ``on_epoch(EpochView)`` after each
    epoch's checkpoint (plots and progress hang there).
    """
    _check(config)
    target = resolve_target(config)
    generator, critic = build_models(config, target, backend)
    models = _Models(generator, critic, torch.optim.Adam(generator.parameters(), lr=config.g_lr, betas=ADAM_BETAS),
                     torch.optim.Adam(critic.parameters(), lr=config.d_lr, betas=ADAM_BETAS))
    run = RunDir(out, config.record(), resume, may_change=("epochs", "plot_every"))
    rng = torch.Generator().manual_seed(config.seed)
    saved = run.load_checkpoint(generators=[rng])
    if saved is not None:
        models.load_state_dict(saved)
    reference = target.sample(config.eval_samples, torch.Generator().manual_seed(config.seed + EVAL_SEED_OFFSET))
    try:
        for epoch in range(run.epochs_done + 1, config.epochs + 1):
            started = time.perf_counter()
            _set_learning_rates({models.g_optimizer: config.g_lr, models.d_optimizer: config.d_lr}, config, epoch)
            row = {"epoch": epoch, **_run_epoch(models, target, config, rng, epoch, on_step)}
            metrics, generated = evaluate(generator, target, reference, epoch, config.seed)
            row.update(metrics, seconds=round(time.perf_counter() - started, 3))
            with defer_interrupts():
                run.end_epoch(row, models.state_dict(), generators=[rng])
            if on_epoch is not None:
                on_epoch(EpochView(run.history, generated, reference, generator.grid, target))
    except KeyboardInterrupt:
        return TrainingResult(run.history, True, run.kept_message(), run.path, target)
    return TrainingResult(run.history, False, run.kept_message(), run.path, target)
