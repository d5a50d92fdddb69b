"""Meta-train the categorisation transformer: ERMI on an LLM-generated corpus, MI (--synthetic), PFN
(--synthetic --nonlinear) or RMC (--rmc) on synthetic priors.

    python categorisation/train_transformer.py --env-name llama-3_categorisation_dim3_procid0 \
        llama-3_categorisation_dim3_procid1 --shuffle --shuffle-features --sample-to-match-max-steps --max-steps 100
    python categorisation/train_transformer.py --synthetic --num-dims 3 --max-steps 100 --output trained_models/mi.pt
"""
import argparse
import time
from pathlib import Path

import torch

from ermi.episodes import (CorpusError, CorpusSampler, LinearPrior, MLPPrior, NoisySampler, PriorSampler, RMCPrior,
                           episode, heldout_episode, load_corpus)
from ermi.model import ModelConfig
from ermi.paths import REPO_ROOT, device_or_default, domain_dir, ensure_parent, file_sha256
from ermi.training import TrainConfig, add_training_args, train, write_model_card

DOMAIN = domain_dir("categorisation")
DEFAULT_CORPUS = ("llama-3_categorisation_dim3_procid0", "llama-3_categorisation_dim3_procid1")


def corpus_paths(names, folder) -> list:
    """Each name is a corpus file (a path, with or without .csv) or a file stem under ``folder``."""
    paths = []
    for name in names:
        candidates = [Path(name), Path(f"{name}.csv"), Path(folder) / name, Path(folder) / f"{name}.csv"]
        found = next((p for p in candidates if p.is_file()), None)
        if found is None:
            raise CorpusError(f"{name}: no such corpus (looked for {', '.join(map(str, candidates))})")
        paths.append(found)
    return paths


def repo_relative(path) -> str:
    path = Path(path).resolve()
    return str(path.relative_to(REPO_ROOT)) if path.is_relative_to(REPO_ROOT) else str(path)


def build_data(args, device):
    """(sampler, validation Episode, num_dims, provenance) for the chosen prior or corpus."""
    if args.synthetic or args.rmc:
        args.num_dims = args.num_dims or 3
        if args.rmc:
            prior, name = RMCPrior(args.num_dims), "rmc"
        elif args.nonlinear:
            prior, name = MLPPrior(args.num_dims), "pfn"
        else:
            prior, name = LinearPrior(args.num_dims), "mi"
        if args.repeat_stimuli and args.rmc:
            raise ValueError("--repeat-stimuli applies to --synthetic priors (RMC stimuli are binary and repeat anyway)")
        sampler = PriorSampler(prior, args.max_steps, device, repeat_stimuli=args.repeat_stimuli,
                               repeat_until=args.repeat_until)
        val_tasks = sampler.taskset(args.num_val_tasks, seed=10_000 + args.seed)
        val = episode(val_tasks.x, val_tasks.y, val_tasks.lengths)
        warmup = {"repeat_stimuli": args.repeat_stimuli, "repeat_until": args.repeat_until} if args.repeat_stimuli else {}
        return sampler, val, args.num_dims, {"prior": name, "corpus": None, **warmup}
    paths = corpus_paths(args.env_name, args.env_dir)
    # Resampling to --max-steps trials shortens long tasks too, so none needs dropping for its length.
    tasks = load_corpus(paths, num_dims=args.num_dims, max_steps=None if args.sample_to_match_max_steps else args.max_steps)
    train_set, val_set, test_set = tasks.split(seed=args.split_seed)
    if len(val_set) == 0:
        train_set = val_set = tasks
        print(f"warning: {', '.join(map(str, paths))} has only {len(tasks)} usable task(s), too few to split; "
              f"training and validating on all of them")
    resample = args.max_steps if args.sample_to_match_max_steps else None
    sampler = CorpusSampler(train_set.to(device), shuffle_trials=args.shuffle, shuffle_features=args.shuffle_features,
                            flip_labels=True, resample_to=resample)
    provenance = {"prior": "ermi", "corpus": [repo_relative(p) for p in paths],
                  "corpus_sha256": [file_sha256(p) for p in paths], "num_tasks": len(tasks),
                  "num_train_tasks": len(train_set), "num_val_tasks": len(val_set), "num_test_tasks": len(test_set),
                  "split_seed": args.split_seed, "dropped_tasks": tasks.dropped,
                  "val_tasks": val_set.described(), "test_tasks": test_set.described()}
    print(f"{', '.join(p.name for p in paths)}: {len(tasks)} tasks ({len(train_set)} train / {len(val_set)} val / "
          f"{len(test_set)} test), {tasks.num_dims} features; dropped: {tasks.dropped or 'none'}")
    return sampler, heldout_episode(val_set), tasks.num_dims, provenance


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--env-name", nargs="+", default=list(DEFAULT_CORPUS),
                        help="corpus file(s): paths, or file stems under --env-dir; several files are pooled")
    parser.add_argument("--split-seed", type=int, default=0, help="seed of the 80/10/10 train/val/test task split")
    parser.add_argument("--env-dir", default=str(DOMAIN / "data" / "generated_tasks"))
    parser.add_argument("--num-dims", type=int, default=None,
                        help="features: required to match a corpus when given (default: the corpus's own; 3 for priors)")
    parser.add_argument("--synthetic", action="store_true", help="train on the linear prior (MI)")
    parser.add_argument("--nonlinear", action="store_true", help="with --synthetic: random-MLP prior (PFN)")
    parser.add_argument("--rmc", action="store_true", help="train on the rational-model prior (RMC)")
    parser.add_argument("--shuffle", action="store_true", help="shuffle trial order per task")
    parser.add_argument("--shuffle-features", action="store_true", help="permute feature order per task")
    parser.add_argument("--sample-to-match-max-steps", action="store_true",
                        help="resample each task's trials with replacement to exactly --max-steps (needs --shuffle)")
    parser.add_argument("--repeat-stimuli", type=int, default=None, metavar="K",
                        help="synthetic priors: for the first --repeat-until steps, each task repeats K distinct stimuli "
                             "(gets the network off the in-context-learning plateau; see PriorSampler)")
    parser.add_argument("--repeat-until", type=int, default=1000, help="last step of the --repeat-stimuli warm-up")
    add_training_args(parser)
    args = parser.parse_args(argv)

    device = device_or_default(args.device)
    try:
        sampler, val_episode, num_dims, provenance = build_data(args, device)
    except (CorpusError, ValueError) as err:
        parser.exit(2, f"error: {err}\n")
    if args.noise > 0:
        sampler = NoisySampler(sampler, args.noise)
    model_cfg = ModelConfig(num_dims=num_dims, d_model=args.d_model, num_layers=args.num_layers,
                            num_head=args.num_head, num_hidden=args.num_hidden, dropout=args.dropout)
    train_cfg = TrainConfig(num_episodes=args.num_episodes, batch_size=args.batch_size, lr=args.lr,
                            save_every=args.save_every, print_every=args.print_every,
                            seed=args.seed + 1000 * args.first_run_id, device=device, patience=args.patience)
    save_dir = Path(args.save_dir or DOMAIN / "checkpoints")
    name = "synthetic" if args.synthetic or args.rmc else "+".join(Path(n).name.removesuffix(".csv") for n in args.env_name)
    checkpoint = ensure_parent(save_dir / f"{name}_{provenance['prior']}_dim{num_dims}_run{args.first_run_id}.ckpt")
    if args.resume and checkpoint.exists():
        before = torch.load(checkpoint, map_location="cpu", weights_only=False).get("provenance", {})
        changed = [k for k in ("repeat_stimuli", "repeat_until", "corpus_sha256", "split_seed")
                   if before.get(k) != provenance.get(k)]
        if changed:
            parser.exit(2, f"error: {checkpoint}: cannot resume with changed --{changed[0].replace('_', '-')} "
                           f"({before.get(changed[0])} -> {provenance.get(changed[0])})\n")
    started = time.time()
    ckpt = train(model_cfg, train_cfg, sampler, val_episode, checkpoint,
                 resume=args.resume, extra={"provenance": provenance})
    if torch.distributed.is_initialized() and torch.distributed.get_rank() != 0:
        return
    last = ckpt["history"][-1]
    print(f"checkpoint {checkpoint}: step {ckpt['step']}, loss {last['loss']:.4f}, val acc {last['val_acc']:.3f} "
          f"({time.time() - started:.0f} s this run)")
    if args.output:
        write_model_card(args.output, ckpt, **provenance, max_steps=args.max_steps, shuffle=args.shuffle,
                         shuffle_features=args.shuffle_features, noise=args.noise)
        print(f"weights {args.output} (+ model card)")


if __name__ == "__main__":
    main()
