"""Parameter and model recovery on the design of Binz et al. (2022).

Synthetic participants take the real participants' trial sequences (cue differences and feedback) of one
experiment; each model generates their choices with a known inverse temperature beta (uniform over --beta-range),
then every model is refitted to every synthetic participant. Reported: r(true beta, recovered beta) per model and
the confusion matrix P(best BIC = fitted model | generating model).

    python decisionmaking/recovery.py --experiment 1
"""
import argparse
import time
from dataclasses import replace

import numpy as np
import pandas as pd
import torch

from decisionmaking.experiments import EXPERIMENTS, load_experiment
from decisionmaking.fit_humans import baseline_logits, default_models, meta_learner_logits
from ermi.fitting import fit_participants, simulate_choices
from ermi.model import load_model
from ermi.paths import FIGURES, TRAINED_MODELS, domain_dir
from ermi.recovery import report

OUTPUT_DIR = domain_dir("decisionmaking") / "data" / "recovery"


def all_logits(number, models) -> dict:
    """label -> logits [V, S, T] of every model that can generate choices (guessing cannot: it has no beta)."""
    experiment = EXPERIMENTS[number]
    data = load_experiment(number)
    logits = {k: v for k, v in baseline_logits(data, experiment.num_cues).items() if k != "guessing"}
    for label, path in models.items():
        logits[label] = meta_learner_logits(load_model(path), data)
    return data, logits


def run(data, logits: dict, beta_range=(0.5, 3.0), seed=0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    participants = data.participants()
    records = []
    for generator, gen_logits in logits.items():
        beta = rng.uniform(*beta_range, len(participants))
        per_sequence = beta[np.searchsorted(participants, data.participant)]
        choices = simulate_choices(gen_logits, data, per_sequence, torch.Generator().manual_seed(int(rng.integers(2**31))))
        simulated = replace(data, choices=choices)
        for fitted, fit_logits in logits.items():
            for row, true_beta in zip(fit_participants(fit_logits, simulated), beta):
                record = {"generator": generator, "fitted": fitted, "participant": row["participant"],
                          "bic": row["bic"], "nll": row["nll"], "k": row["k"]}
                if fitted == generator:
                    record.update({"true_beta": true_beta, "fit_beta": row["beta"]})
                records.append(record)
    return pd.DataFrame(records)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--experiment", type=int, default=1, choices=sorted(EXPERIMENTS))
    parser.add_argument("--beta-range", nargs=2, type=float, default=[0.5, 3.0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output-dir", default=str(OUTPUT_DIR))
    parser.add_argument("--figure", default=None, help="default: figures/binz2022_exp<N>_recovery.png")
    parser.add_argument("--weights-dir", default=str(TRAINED_MODELS), help="where the shipped meta-learners are")
    args = parser.parse_args(argv)
    started = time.time()
    experiment = EXPERIMENTS[args.experiment]
    data, logits = all_logits(args.experiment, default_models(experiment.condition, args.weights_dir))
    records = run(data, logits, tuple(args.beta_range), args.seed)
    report(records, args.output_dir, experiment.name, args.figure or FIGURES / f"{experiment.name}_recovery.png",
           started, experiment=args.experiment, seed=args.seed, beta_range=args.beta_range, models=list(logits))


if __name__ == "__main__":
    main()
