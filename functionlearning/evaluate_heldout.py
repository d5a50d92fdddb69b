"""Score the function-learning meta-learners and every baseline on the same held-out LLM functions, trial by trial.

The held-out tasks are the test split recorded in ERMI-FL's model card (functions it never trained or validated on),
each in one fixed random trial order; every learner predicts trial t from trials < t as a Gaussian. Reported: NLL
and MSE per trial (targets scaled to [0, 1] per task), overall and for trials 1-5.

    python functionlearning/evaluate_heldout.py
"""
import argparse
import time

import pandas as pd

from ermi.episodes import CorpusError, heldout_episode
from ermi.paths import TRAINED_MODELS, domain_dir, ensure_parent, write_sidecar
from ermi.training import heldout_tasks
from functionlearning.baselines.regression import gaussian_nll
from functionlearning.learners import default_learners, make_learner


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--card", default=str(TRAINED_MODELS / "ermi_functionlearning_dim1.json"))
    parser.add_argument("--learners", nargs="+", default=None, help="weight files or baseline names")
    parser.add_argument("--seed", type=int, default=0, help="seed of the trial order (0: the trainer's validation order)")
    parser.add_argument("--output", default=str(domain_dir("functionlearning") / "data" / "simulations" / "heldout.csv"))
    args = parser.parse_args(argv)
    started = time.time()
    try:
        tasks = heldout_tasks(args.card, binary=False)
    except (CorpusError, FileNotFoundError) as err:
        parser.exit(2, f"error: {err}\n")
    ep = heldout_episode(tasks, args.seed)
    x, y, mask = ep.tokens[..., 0].double(), ep.targets.double(), ep.mask
    rows = []
    for name in args.learners or default_learners():
        learner = make_learner(name)
        mean, var = learner.online(x, y)
        nll, se = gaussian_nll(mean, var, y), (mean - y) ** 2
        early = mask.clone()
        early[:, 5:] = False
        rows.append({"learner": learner.name, "nll": float(nll[mask].mean()), "mse": float(se[mask].mean()),
                     "nll_trials_1_5": float(nll[early].mean()), "mse_trials_1_5": float(se[early].mean())})
    table = pd.DataFrame(rows).sort_values("nll")
    output = ensure_parent(args.output)
    table.to_csv(output, index=False)
    write_sidecar(output, started, card=args.card, num_tasks=len(tasks), num_trials=int(mask.sum()), seed=args.seed)
    print(f"{len(tasks)} held-out functions, {int(mask.sum())} trials")
    print(table.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    print(f"wrote {output}")


if __name__ == "__main__":
    main()
