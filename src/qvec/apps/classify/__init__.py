"""The hybrid image classifier behind ``qvec train classify``: data loaders, the quantum model and its classical
twin, the resumable training loop, and plots."""

from .app import ClassifierOptions, open_run, prepare, run_classifier
from .data import DATASETS, ImageDataset, load_dataset, stratified_split
from .model import ENCODERS, TEMPLATES, HybridClassifier, ModelConfig, build_models
from .train import FeatureSet, TrainConfig, TrainingOutcome, make_features, train_models

__all__ = [
    "DATASETS", "ENCODERS", "TEMPLATES", "ClassifierOptions", "FeatureSet", "HybridClassifier", "ImageDataset",
    "ModelConfig", "TrainConfig", "TrainingOutcome", "build_models", "load_dataset", "make_features", "open_run", "prepare",
    "run_classifier", "stratified_split", "train_models",
]
