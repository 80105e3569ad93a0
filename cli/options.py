"""Options shared by several subcommands (model source, device, dtype)."""

from __future__ import annotations

import argparse


def add_model_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", default="interp-tiny",
                        help="a model name (interp-tiny, interp-circuits, "
                             "smollm2-135m-instruct, gemma-3-270m), a .gguf file, a local "
                             "Hugging Face directory, or a cached hub name (default: "
                             "interp-tiny)")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps")
    parser.add_argument("--dtype", default=None, help="float32, bfloat16 or float16")


def load_model_from(args: argparse.Namespace):
    from interp import load_model

    return load_model(args.model, device=args.device, dtype=args.dtype)
