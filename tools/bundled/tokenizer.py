"""Byte-level BPE tokenizer for the bundled model, trained on the same mix as the model.

Numbers are pre-split into chunks of at most two digits, so a year like 1732 becomes " 17" +
"32" (as in GPT-2), which the greater-than (year range) task relies on.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

END_OF_TEXT = "<|endoftext|>"
PAD = "<|pad|>"
PRETOKENIZE_PATTERN = (
    r"'(?:[sdmt]|ll|ve|re)| ?\p{L}+| ?\p{N}{1,2}| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"
)


def train_tokenizer(texts: Iterable[str], vocab_size: int, out_dir: Path):
    """Train the BPE tokenizer and save it as a Hugging Face fast tokenizer in `out_dir`."""
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(PRETOKENIZE_PATTERN), behavior="isolated"),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size, special_tokens=[END_OF_TEXT, PAD],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False,
    )
    tok.train_from_iterator(texts, trainer=trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, name_or_path=str(out_dir), bos_token=END_OF_TEXT,
        eos_token=END_OF_TEXT, unk_token=None, pad_token=PAD, model_max_length=256,
    )
    fast.save_pretrained(out_dir)
    return fast
