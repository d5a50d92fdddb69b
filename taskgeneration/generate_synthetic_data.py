"""Synthetic corpora in the LLM corpus format, from the priors the baselines are meta-trained on:
MI (linear boundary), PFN (a random MLP per task) and RMC (Anderson's rational model).

Inputs are already scaled to [0, 1] per task (``PriorSampler.taskset``); targets are the labels A / B. The same
seed gives the same corpus.

    python taskgeneration/generate_synthetic_data.py --prior mlp --num-tasks 10000 --num-dims 4 --max-steps 650
"""
import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from ermi.episodes import PRIORS, PriorSampler
from ermi.paths import domain_dir, ensure_parent, write_sidecar

NAMES = {"linear": "mi", "mlp": "pfn", "rmc": "rmc"}


def synthetic_corpus(prior, num_tasks, num_dims, max_steps, seed=0, noise=0.0, chunk=1000):
    """DataFrame (task_id, trial_id, input, target); ``noise`` flips each label with that probability."""
    sampler = PriorSampler(PRIORS[prior](num_dims), max_steps)
    rng = np.random.default_rng(seed)
    frames = []
    for start in range(0, num_tasks, chunk):
        n = min(chunk, num_tasks - start)
        tasks = sampler.taskset(n, seed * 1_000_003 + start)
        x = tasks.x.numpy().round(6).reshape(n * max_steps, num_dims)
        y = tasks.y.numpy().reshape(-1).astype(bool)
        y ^= rng.random(len(y)) < noise
        frames.append(pd.DataFrame({"task_id": np.repeat(np.arange(start, start + n), max_steps),
                                    "trial_id": np.tile(np.arange(max_steps), n),
                                    "input": [json.dumps(row) for row in x.tolist()],
                                    "target": np.where(y, "B", "A")}))
    return pd.concat(frames, ignore_index=True)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--prior", default="linear", choices=sorted(PRIORS), help="linear = MI, mlp = PFN, rmc = RMC")
    p.add_argument("--nonlinear", action="store_true", help="the seed's flag: same as --prior mlp")
    p.add_argument("--rmc", action="store_true", help="the seed's flag: same as --prior rmc")
    p.add_argument("--num-tasks", type=int, default=100)
    p.add_argument("--num-dims", "--num-dim", dest="num_dims", type=int, default=3)
    p.add_argument("--max-steps", type=int, default=8, help="trials per task")
    p.add_argument("--noise", type=float, default=0.0, help="probability of flipping each label")
    p.add_argument("--batch-size", type=int, default=1000, help="tasks sampled at once")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--output", default=None,
                   help="CSV (default categorisation/data/generated_tasks/{mi|pfn|rmc}_tasks_dim{D}_data{T}_tasks{N}.csv)")
    args = p.parse_args(argv)
    if args.nonlinear and args.rmc:
        p.error("--nonlinear and --rmc are two different priors; give one")
    prior = "mlp" if args.nonlinear else "rmc" if args.rmc else args.prior
    if not 0.0 <= args.noise <= 1.0:
        sys.exit(f"generate_synthetic_data: --noise {args.noise} is not a probability")
    started = time.time()
    corpus = synthetic_corpus(prior, args.num_tasks, args.num_dims, args.max_steps, args.seed, args.noise,
                              args.batch_size)
    output = Path(args.output) if args.output else domain_dir("categorisation") / "data" / "generated_tasks" / \
        f"{NAMES[prior]}_tasks_dim{args.num_dims}_data{args.max_steps}_tasks{args.num_tasks}.csv"
    corpus.to_csv(ensure_parent(output), index=False)
    write_sidecar(output, started, prior=prior, seed=args.seed, noise=args.noise, num_tasks=args.num_tasks,
                  num_dims=args.num_dims, max_steps=args.max_steps)
    print(f"wrote {output} ({args.num_tasks} {NAMES[prior].upper()} tasks x {args.max_steps} trials, "
          f"{args.num_dims} features)")


if __name__ == "__main__":
    main()
