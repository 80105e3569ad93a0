"""Codebook features (Tamkin et al. 2023): top-k vector-quantisation bottlenecks spliced into a
model at named sites, finetuned with it, searched for concepts and activated to steer."""

from interp.codebook.artifact import load_codebooks, save_codebooks
from interp.codebook.health import Health, SiteHealth, health
from interp.codebook.layer import Codebook, StraightThrough
from interp.codebook.splice import (
    CODEBOOK_SITES,
    Codebooks,
    CodebookSite,
    attach,
    run_with_codes,
    splice,
)
from interp.codebook.steer import CodeSteer, activate, steer_codes
from interp.codebook.train import TrainConfig, TrainLog, finetune, pack_tokens
from interp.codebook.workflows import search_codebooks, steer_codebooks, train_codebooks

__all__ = [
    "CODEBOOK_SITES", "CodeSteer", "Codebook", "CodebookSite", "Codebooks", "Health",
    "SiteHealth", "StraightThrough", "TrainConfig", "TrainLog", "activate", "attach",
    "finetune", "health", "load_codebooks", "pack_tokens", "run_with_codes", "save_codebooks",
    "search_codebooks", "splice", "steer_codebooks", "steer_codes", "train_codebooks",
]
