"""``qvec train classify``: the hybrid image classifier beside its classical twin, trained into ``--out``.

Only the options live here (``--help`` answers without torch); ``train_classify_display`` shows the run.
"""

from __future__ import annotations

import click

from .options import dask_scheduler_option

__all__ = ["command"]

DATASETS = ("digits", "mnist", "fashion-mnist", "npz", "images")  # qvec.apps.classify.data.DATASETS
ENCODERS = ("angle", "iqp", "amplitude", "reuploading")  # qvec.apps.classify.model.ENCODERS
TEMPLATES = ("strongly-entangling", "basic-entangler", "hardware-efficient")  # qvec.apps.classify.model.TEMPLATES
DIFF_METHODS = ("best", "backprop", "adjoint", "parameter-shift", "spsa")


@click.command("classify")
@click.option("--dataset", type=click.Choice(DATASETS), default="digits", show_default=True,
              help="digits: scikit-learn's bundled 8x8 digits; mnist/fashion-mnist: a folder of IDX files; "
                   "npz: an .npz of images and labels; images: a folder of class sub-folders.")
@click.option("--data", type=click.Path(), default=None, help="Where --dataset reads from (all but digits).")
@click.option("--image-size", type=click.IntRange(2, 512), default=28, show_default=True,
              help="--dataset images: resize every image to this many pixels square.")
@click.option("--grey/--colour", default=True, show_default=True, help="--dataset images: greyscale or RGB.")
@click.option("--preprocess", type=click.Choice(["pca", "linear"]), default="pca", show_default=True,
              help="pca: whitened principal components fitted on the train set; linear: raw pixels into the first Linear.")
@click.option("--features", type=click.IntRange(1), default=32, show_default=True, help="PCA components.")
@click.option("--qubits", type=click.IntRange(1, 20), default=8, show_default=True,
              help="Width of the bottleneck: qubits of the quantum layer, units of the classical twin.")
@click.option("--layers", type=click.IntRange(1), default=3, show_default=True, help="Template (or re-uploading) layers.")
@click.option("--encoder", type=click.Choice(ENCODERS), default="angle", show_default=True,
              help="How the projected features enter the circuit (angle: one RX per qubit).")
@click.option("--template", type=click.Choice(TEMPLATES), default=None,
              help="Trained layers after the encoder [default: strongly-entangling; none with --encoder reuploading].")
@click.option("--diff-method", type=click.Choice(DIFF_METHODS), default="best", show_default=True,
              help="Gradients of the quantum layer (best: backprop locally, parameter-shift on IonQ).")
@click.option("--shots", type=click.IntRange(1), default=None, help="Estimate <Z> from N shots (default: exact).")
@click.option("--epochs", type=click.IntRange(1), default=None, help="Epochs [default: 40; 2 with --quick-test].")
@click.option("--batch-size", type=click.IntRange(1), default=32, show_default=True)
@click.option("--learning-rate", type=click.FloatRange(0, min_open=True), default=0.01, show_default=True, help="Adam's.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seeds the split, the initial weights and the shuffles.")
@click.option("--train-samples", type=click.IntRange(1), default=None, help="Train on a stratified subset of N images.")
@click.option("--test-samples", type=click.IntRange(1), default=None, help="Test on a stratified subset of N images.")
@click.option("--quick-test", is_flag=True, help="256 train and 128 test images, 2 epochs (unless given).")
@click.option("--backend", type=click.Choice(["local", "ionq"]), default=None,
              help="Where the quantum layer runs [default: local]. ionq: IONQ_API_KEY, IONQ_BASE_URL (the emulator, say), IONQ_TARGET, or a .env file.")
@click.option("--no-mock", is_flag=True, help="Run on the IonQ cloud (the same as --backend ionq).")
@dask_scheduler_option()
@click.option("--out", type=click.Path(file_okay=False), default="runs/classify", show_default=True,
              help="Folder for config, metrics (JSON, CSV), checkpoint and plots.")
@click.option("--threads", type=click.IntRange(1), default=1, show_default=True,
              help="torch threads: one is fastest for the small state batches of a few qubits (measured: 5 s against "
                   "70 s an epoch with two, on a busy 2-core machine).")
@click.option("--resume", is_flag=True, help="Continue the run in --out from its last completed epoch.")
def command(**flags: object) -> None:
    """Train a hybrid quantum image classifier and its classical twin side by side.

    Features (PCA) -> Linear -> a quantum layer of --qubits (<Z> per qubit) -> Linear head; the twin
    has Linear + tanh of the same width instead. Metrics keys: quantum.test_accuracy,
    classical.test_accuracy, ... per epoch. Ctrl-C keeps every completed epoch; --resume continues
    with the same result as an uninterrupted run.
    """
    from .train_classify_display import train_from_flags

    train_from_flags(flags)
