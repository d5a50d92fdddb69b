"""Fit meta-learners and the study's baselines to the choices of Binz et al. (2022), trial by trial.

Every model gives P(choose A) on each trial from the trials before it in the same task (with their feedback); a
participant's choices are fitted with one inverse temperature beta on that model's logit, p = sigmoid(beta *
logit) (k = 1; guessing has k = 0). Meta-learners (weights head) are averaged over which option is called A
(x -> -x, labels swapped), so the fit does not depend on it. Writes one fits CSV per experiment and model to
decisionmaking/data/model_comparison/binz2022_exp{N}_{model}.csv (+ JSON sidecar).

    python decisionmaking/fit_humans.py                       # every experiment, every model found
    python decisionmaking/fit_humans.py --experiments 1 --models trained_models/mi_decisionmaking_ranking.pt
    python decisionmaking/fit_humans.py --data my_experiment.csv  # any experiment in the tidy format
"""
import argparse
import math
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from decisionmaking.baselines.strategies import NAMES, predictions
from decisionmaking.experiments import EXPERIMENTS, DataError, load_experiment
from ermi.api import fit_file
from ermi.episodes import make_tokens
from ermi.fitting import ChoiceData, fit_participants, information_criteria, write_fits
from ermi.model import load_model
from ermi.paths import TRAINED_MODELS, domain_dir, file_sha256, resolve_model
from ermi.tidy import TidyError

OUTPUT_DIR = domain_dir("decisionmaking") / "data" / "model_comparison"


def default_models(condition, folder=TRAINED_MODELS) -> dict:
    """label -> weights: MI-DM trained on the experiment's own condition, and ERMI-DM (ranked LLM problems), where
    ``folder`` has them."""
    folder = Path(folder)
    candidates = {"mi": folder / f"mi_decisionmaking_{condition}.pt", "ermi": folder / "ermi_decisionmaking_ranking.pt"}
    return {label: path for label, path in candidates.items() if path.exists()}


@torch.no_grad()
def meta_learner_logits(model, data: ChoiceData) -> torch.Tensor:
    """[2, S, T] logits of choosing A: as coded, and with options A and B swapped (mapped back)."""
    model.eval()
    as_coded = model(make_tokens(data.x, data.targets))
    swapped = model(make_tokens(-data.x, 1.0 - data.targets))
    return torch.stack([as_coded, -swapped]).double()


def baseline_logits(data: ChoiceData, num_cues=None) -> dict:
    """Every baseline's logit of choosing A, [1, S, T]."""
    out = {}
    for name, p in predictions(data.x, data.targets, num_cues).items():
        p = p.clamp(1e-9, 1 - 1e-9)
        out[name] = torch.log(p / (1 - p))[None]
    return out


def guessing_rows(data: ChoiceData):
    rows = []
    for pid in data.participants():
        n = int(data.mask[data.participant == pid].sum())
        nll = n * math.log(2)
        rows.append({"participant": pid, "nll": nll, "n_trials": n, "k": 0,
                     **{k: float(v) for k, v in information_criteria(nll, n, 0).items()}})
    return rows


def fit_experiment(number, models: dict, baselines=NAMES, beta_max=10.0):
    """{label: fits rows} for one experiment: the meta-learners (label -> weight file) and the baselines."""
    experiment = EXPERIMENTS[number]
    data = load_experiment(number)
    logits = baseline_logits(data, experiment.num_cues)
    results = {}
    for name in baselines:
        results[name] = guessing_rows(data) if name == "guessing" else fit_participants(logits[name], data,
                                                                                         beta_max=beta_max)
    for label, path in models.items():
        model = load_model(path)
        if model.cfg.head != "weights" or model.cfg.num_dims != 4:
            raise ValueError(f"{path}: not a 4-cue decision-making model (head {model.cfg.head}, "
                             f"{model.cfg.num_dims} inputs)")
        results[label] = fit_participants(meta_learner_logits(model, data), data, beta_max=beta_max)
    for label, rows in results.items():
        for row in rows:
            row["model"] = label
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--experiments", type=int, nargs="+", default=sorted(EXPERIMENTS), choices=sorted(EXPERIMENTS))
    parser.add_argument("--models", nargs="*", default=None,
                        help="meta-learner weight files or names (default: MI-DM of the experiment's condition and "
                             "ERMI-DM, where shipped); the label is the file name up to the first underscore")
    parser.add_argument("--weights-dir", default=str(TRAINED_MODELS),
                        help="where the default meta-learners (mi_decisionmaking_<condition>.pt, "
                             "ermi_decisionmaking_ranking.pt) are looked up")
    parser.add_argument("--baselines", nargs="*", default=list(NAMES), choices=NAMES)
    parser.add_argument("--beta-max", type=float, default=10.0)
    parser.add_argument("--output-dir", default=str(OUTPUT_DIR))
    parser.add_argument("--data", default=None, help="an experiment in the tidy format (README, 'Your own "
                        "experiment'): fits --models (default: every shipped 4-cue decision-making model) and "
                        "--baselines to it instead of Binz et al. (2022)")
    args = parser.parse_args(argv)
    if args.data:
        try:
            fit_file(args.data, "decisionmaking", args.models, args.baselines, args.output_dir)
        except (TidyError, FileNotFoundError, ValueError) as err:
            parser.exit(2, f"error: {err}\n")
        return
    for number in args.experiments:
        started = time.time()
        experiment = EXPERIMENTS[number]
        try:
            models = default_models(experiment.condition, args.weights_dir) if args.models is None else \
                {Path(m).stem.split("_")[0]: resolve_model(m) for m in args.models}
            results = fit_experiment(number, models, args.baselines, args.beta_max)
        except (DataError, FileNotFoundError, ValueError) as err:
            parser.exit(2, f"error: {err}\n")
        summary = []
        for label, rows in results.items():
            output = Path(args.output_dir) / f"{experiment.name}_{label}.csv"
            weights = models.get(label)
            df = write_fits(rows, output, started, experiment=number, condition=experiment.condition,
                            data=str(experiment.path), data_sha256=file_sha256(experiment.path),
                            **({"model_file": str(weights), "model_sha256": file_sha256(weights)} if weights else {}))
            summary.append({"model": label, "participants": len(df), "nll": df.nll.mean(), "bic": df.bic.mean(),
                            "pseudo_r2": df.pseudo_r2.mean(),
                            "beta": df.beta.mean() if "beta" in df else np.nan})
        table = pd.DataFrame(summary).sort_values("bic")
        print(f"\nexperiment {number} ({experiment.condition}, {experiment.num_cues} cues), "
              f"{time.time() - started:.1f} s; fits -> {args.output_dir}/{experiment.name}_*.csv")
        print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))


if __name__ == "__main__":
    main()
