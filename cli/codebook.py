"""`interp codebook train|search|steer`: finetune codebook bottlenecks at named sites and save
them; find the codes (and neurons) that mark a regex or a word set; activate a code while
sampling and compare a concept's rate with the codebook model's baseline."""

from __future__ import annotations

import argparse
import json
import sys

from interp_cli.options import add_model_options, load_model_from


def _texts(args: argparse.Namespace, n_chars: int, seed: int) -> list[str]:
    """Documents from --texts (one per line) or generated simple English."""
    if getattr(args, "texts", None):
        from interp_cli.steer import read_lines

        return read_lines(args.texts)
    from interp.bundled.stories import generate_documents

    return list(generate_documents(n_chars, seed))


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("codebook", help="codebook bottlenecks: train, search, steer",
                              description=__doc__)
    sub = p.add_subparsers(dest="action", metavar="ACTION", required=True)

    t = sub.add_parser("train", help="finetune codebooks at sites and save them")
    add_model_options(t)
    t.add_argument("--site", action="append", required=True, metavar="LAYER:SITE",
                   help="e.g. 2:mlp_out, 3:attn_out or 1:attn_z (one codebook per head); "
                        "repeatable")
    t.add_argument("--codes", type=int, default=1024, help="codes per codebook (1024)")
    t.add_argument("-k", type=int, default=8, help="active codes per token (8)")
    t.add_argument("--similarity", default="cosine", help="cosine (default) or inner")
    t.add_argument("--steps", type=int, default=300, help="training steps (300)")
    t.add_argument("--batch-size", type=int, default=8, help="rows per step (8)")
    t.add_argument("--seq-len", type=int, default=128, help="tokens per row (128)")
    t.add_argument("--lr", type=float, default=1e-3, help="codebook learning rate (1e-3)")
    t.add_argument("--train-model", action="store_true",
                   help="train the model's weights too (default: frozen)")
    t.add_argument("--no-kmeans", action="store_true", help="random codes, no k-means init")
    t.add_argument("--replace-dead-every", type=int, default=50,
                   help="re-seed unused codes every N steps (50; 0 never)")
    t.add_argument("--texts", default=None, metavar="FILE",
                   help="training text, one document per line (default: generated stories)")
    t.add_argument("--train-chars", type=int, default=1_500_000,
                   help="characters of generated text to train on (1.5M)")
    t.add_argument("--eval-rows", type=int, default=32, help="held-out rows for health (32)")
    t.add_argument("--seed", type=int, default=0, help="random seed (0)")
    t.add_argument("--out", required=True, metavar="DIR", help="directory to save them in")
    t.set_defaults(run=run_train)

    s = sub.add_parser("search", help="codes (and neurons) that mark a regex or words")
    add_model_options(s)
    s.add_argument("--codebooks", required=True, metavar="DIR", help="saved codebooks")
    what = s.add_mutually_exclusive_group(required=True)
    what.add_argument("--regex", help="mark tokens overlapping a match (case-insensitive)")
    what.add_argument("--words", help="mark these words: dog,cat,... or a named concept "
                                      "(animals, colours, months, ...)")
    s.add_argument("--texts", default=None, metavar="FILE",
                   help="text to search, one document per line (default: generated stories)")
    s.add_argument("--search-chars", type=int, default=60_000,
                   help="characters of generated text to search (60k)")
    s.add_argument("--top", type=int, default=10, help="cards to show (10)")
    s.add_argument("--min-active", type=int, default=5,
                   help="ignore codes active on fewer tokens (5)")
    s.add_argument("--neurons", action="store_true", help="also search MLP neurons")
    s.add_argument("--json", action="store_true", help="print the cards as JSON")
    s.set_defaults(run=run_search)

    g = sub.add_parser("steer", help="sample with a code activated vs the codebook model")
    add_model_options(g)
    g.add_argument("--codebooks", required=True, metavar="DIR", help="saved codebooks")
    g.add_argument("--code", action="append", required=True, metavar="LAYER:SITE#CODE",
                   help="e.g. 2:mlp_out#17 or 1:attn_z/h3#5 (a search card's unit); repeatable")
    g.add_argument("--mode", default="slot", help="slot (default: replace the least similar "
                   "active codes) or add (add STRENGTH x the code)")
    g.add_argument("--strength", type=float, default=1,
                   help="slot: how many of the k codes to replace; add: the multiple (1)")
    g.add_argument("--positions", default="all", help="all (default), last, 5, 2,4 or 3:")
    g.add_argument("--prompt", required=True, help="the prompt to continue")
    g.add_argument("-n", "--n-samples", type=int, default=50, help="samples per arm (50)")
    g.add_argument("--concept", default=None, help="words to count (animals, dog,cat, ...)")
    g.add_argument("--max-new-tokens", type=int, default=20, help="tokens per sample (20)")
    g.add_argument("--temperature", type=float, default=1.0, help="sampling temperature (1)")
    g.add_argument("--seed", type=int, default=0, help="random seed, same for both arms (0)")
    g.add_argument("--show", type=int, default=5, help="samples to print per arm (5)")
    g.add_argument("--json", action="store_true", help="print everything as JSON")
    g.set_defaults(run=run_steer)


def run_train(args: argparse.Namespace) -> int:
    from interp.codebook import Codebooks, finetune, health, pack_tokens, save_codebooks

    model = load_model_from(args)
    books = Codebooks.create(model, args.site, args.codes, args.k, similarity=args.similarity,
                             seed=args.seed)
    texts = _texts(args, args.train_chars, args.seed)
    if args.texts:  # the last tenth is held out
        cut = max(1, len(texts) // 10)
        held, texts = texts[-cut:], texts[:-cut] or texts
    else:  # generated with another seed
        held = _texts(argparse.Namespace(), 8 * args.eval_rows * args.seq_len, 10_000)
    print(f"packing {len(texts)} documents", file=sys.stderr)
    rows = pack_tokens(model, texts, args.seq_len)
    log = finetune(model, books, rows, steps=args.steps, batch_size=args.batch_size,
                   seq_len=args.seq_len, lr=args.lr, train_model=args.train_model,
                   kmeans_init=not args.no_kmeans, replace_dead_every=args.replace_dead_every,
                   seed=args.seed)
    result = health(model, books, pack_tokens(model, held, args.seq_len)[: args.eval_rows])
    meta = {"steps": args.steps, "batch_size": args.batch_size, "seq_len": args.seq_len,
            "lr": args.lr, "train_model": args.train_model, "seed": args.seed,
            "train_rows": len(rows), "seconds": round(log.seconds, 1),
            "final_lm_loss": log.lm_loss[-1], "health": result.to_dict()}
    path = save_codebooks(books, args.out, meta=meta)
    print(result.table())
    print(f"trained {args.steps} steps in {log.seconds:.0f} s; saved to {path}")
    return 0


def run_search(args: argparse.Namespace) -> int:
    from interp.codebook import load_codebooks
    from interp.codebook.search import mark_tokens, search_codes, search_neurons
    from interp.steer.concepts import resolve_concept

    model = load_model_from(args)
    books = load_codebooks(args.codebooks, model)
    texts = _texts(args, args.search_chars, 20_000)
    if args.regex is not None:
        marked = mark_tokens(model, texts, regex=args.regex)
    else:
        marked = mark_tokens(model, texts, token_set=resolve_concept(args.words))
    cards = search_codes(model, books, marked, top=args.top, min_active=args.min_active)
    neurons = search_neurons(model, marked, top=args.top, min_active=args.min_active) \
        if args.neurons else []
    if args.json:
        print(json.dumps({"regex": marked.regex, "n_marked": marked.n_marked,
                          "codes": [c.to_dict() for c in cards],
                          "neurons": [c.to_dict() for c in neurons]}, indent=1))
        return 0
    print(f"/{marked.regex}/ marks {marked.n_marked} tokens")
    print("codes:")
    for card in cards:
        print(f"  {card}")
    if args.neurons:
        print("neurons:")
        for card in neurons:
            print(f"  {card}")
    return 0


def run_steer(args: argparse.Namespace) -> int:
    from interp.codebook import CodeSteer, load_codebooks, steer_codes
    from interp.steer.clamps import parse_positions_text

    positions = parse_positions_text(args.positions)
    specs = [CodeSteer.parse(c, args.mode, args.strength, positions) for c in args.code]
    model = load_model_from(args)
    books = load_codebooks(args.codebooks, model)
    result = steer_codes(model, books, args.prompt, specs, args.n_samples,
                         concept=args.concept, max_new_tokens=args.max_new_tokens,
                         temperature=args.temperature, seed=args.seed)
    print(json.dumps(result.to_dict(), indent=1) if args.json else result.report(args.show))
    return 0
