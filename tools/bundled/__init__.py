"""Build the bundled toy models and their cards: `python -m tools.bundled.train`, then
`python -m tools.bundled.card` (corpus assembly, tokenizer training, resumable checkpoints)."""
