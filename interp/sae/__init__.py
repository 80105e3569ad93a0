"""Sparse autoencoders: ReLU / top-k SAE with a unit-norm decoder, a trainer over any source of
activation batches, discrete codes (argmax / top-k) and safetensors artifacts."""

from interp.sae.codes import NO_CODE, SILENT, sae_codes
from interp.sae.io import load_sae, save_sae
from interp.sae.model import SAEConfig, SparseAutoencoder
from interp.sae.train import TrainLog, train_sae

__all__ = [
    "NO_CODE", "SILENT", "SAEConfig", "SparseAutoencoder", "TrainLog", "load_sae", "sae_codes",
    "save_sae", "train_sae",
]
