"""Sparse autoencoders: ReLU / top-k SAE with a unit-norm decoder, a trainer over any source of
activation batches, discrete codes (argmax / top-k), safetensors artifacts, SAELens' on-disk
layout (load / save) and running an SAE on a model (feature activations, splicing)."""

from interp.sae.codes import NO_CODE, SILENT, sae_codes
from interp.sae.io import load_sae, save_sae
from interp.sae.model import SAEConfig, SparseAutoencoder
from interp.sae.saelens import load_saelens, save_saelens
from interp.sae.saelens_model import SAELensConfig, SAELensSAE
from interp.sae.splice import attach_sae, feature_acts, resolve_hook, splice_sae
from interp.sae.train import TrainLog, train_sae

__all__ = [
    "NO_CODE", "SILENT", "SAEConfig", "SAELensConfig", "SAELensSAE", "SparseAutoencoder",
    "TrainLog", "attach_sae", "feature_acts", "load_sae", "load_saelens", "resolve_hook",
    "sae_codes", "save_sae", "save_saelens", "splice_sae", "train_sae",
]
