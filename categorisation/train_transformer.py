"""Meta-train the categorisation transformer: ERMI on an LLM-generated corpus, MI (--synthetic), PFN
(--synthetic --nonlinear) or RMC (--rmc) on synthetic priors.

    python categorisation/train_transformer.py --env-name llama-3_dim3_first_tasks --num-episodes 2000
    python categorisation/train_transformer.py --synthetic --num-dims 3 --max-steps 100 --output trained_models/mi.pt
"""
import argparse
import time
from pathlib import Path

import torch

from ermi.episodes import (CorpusError, CorpusSampler, LinearPrior, MLPPrior, NoisySampler, PriorSampler, RMCPrior,
                           episode, load_corpus)
from ermi.model import ModelConfig
from ermi.paths import device_or_default, domain_dir, ensure_parent, file_sha256
from ermi.training import TrainConfig, add_training_args, train, write_model_card

DOMAIN = domain_dir("categorisation")


def build_data(args, device):
    """(sampler, validation TaskSet, num_dims, provenance) for the chosen prior or corpus."""
    if args.synthetic or args.rmc:
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
        val = sampler.taskset(args.num_val_tasks, seed=10_000 + args.seed)
        warmup = {"repeat_stimuli": args.repeat_stimuli, "repeat_until": args.repeat_until} if args.repeat_stimuli else {}
        return sampler, val, args.num_dims, {"prior": name, "corpus": None, **warmup}
    path = Path(args.env_dir) / f"{args.env_name}.csv"
    # Resampling to --max-steps trials shortens long tasks too, so none needs dropping for its length.
    tasks = load_corpus(path, num_dims=args.num_dims, max_steps=None if args.sample_to_match_max_steps else args.max_steps)
    train_set, val_set, test_set = tasks.split()
    if len(val_set) == 0:
        train_set = val_set = tasks
        print(f"warning: {path} has only {len(tasks)} usable task(s), too few to split; training and validating "
              f"on all of them")
    resample = args.max_steps if args.sample_to_match_max_steps else None
    sampler = CorpusSampler(train_set.to(device), shuffle_trials=args.shuffle, shuffle_features=args.shuffle_features,
                            flip_labels=True, resample_to=resample)
    provenance = {"prior": "ermi", "corpus": str(path.resolve().relative_to(Path.cwd().resolve()))
                  if path.resolve().is_relative_to(Path.cwd().resolve()) else str(path),
                  "corpus_sha256": file_sha256(path), "num_tasks": len(tasks), "num_train_tasks": len(train_set),
                  "num_val_tasks": len(val_set), "dropped_tasks": tasks.dropped}
    print(f"{path}: {len(tasks)} tasks ({len(train_set)} train / {len(val_set)} val / {len(test_set)} test), "
          f"{tasks.num_dims} features; dropped: {tasks.dropped or 'none'}")
    return sampler, val_set, tasks.num_dims, provenance


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--env-name", default="llama-3_dim3_first_tasks", help="corpus file stem under --env-dir")
    parser.add_argument("--env-dir", default=str(DOMAIN / "data" / "generated_tasks"))
    parser.add_argument("--num-dims", type=int, default=3)
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
        sampler, val_set, num_dims, provenance = build_data(args, device)
    except (CorpusError, ValueError) as err:
        parser.exit(2, f"error: {err}\n")
    if args.noise > 0:
        sampler = NoisySampler(sampler, args.noise)
    model_cfg = ModelConfig(num_dims=num_dims, d_model=args.d_model, num_layers=args.num_layers,
                            num_head=args.num_head, num_hidden=args.num_hidden, dropout=args.dropout)
    train_cfg = TrainConfig(num_episodes=args.num_episodes, batch_size=args.batch_size, lr=args.lr,
                            save_every=args.save_every, print_every=args.print_every,
                            seed=args.seed + 1000 * args.first_run_id, device=device)
    save_dir = Path(args.save_dir or DOMAIN / "checkpoints")
    name = "synthetic" if args.synthetic or args.rmc else args.env_name
    checkpoint = ensure_parent(save_dir / f"{name}_{provenance['prior']}_dim{num_dims}_run{args.first_run_id}.ckpt")
    if args.resume and checkpoint.exists():
        before = torch.load(checkpoint, map_location="cpu", weights_only=False).get("provenance", {})
        changed = [k for k in ("repeat_stimuli", "repeat_until") if before.get(k) != provenance.get(k)]
        if changed:
            parser.exit(2, f"error: {checkpoint}: cannot resume with changed --{changed[0].replace('_', '-')} "
                           f"({before.get(changed[0])} -> {provenance.get(changed[0])})\n")
    started = time.time()
    ckpt = train(model_cfg, train_cfg, sampler, episode(val_set.x, val_set.y, val_set.lengths), checkpoint,
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
