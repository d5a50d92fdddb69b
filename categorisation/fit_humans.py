"""Fit a trained meta-learner to each participant's choices: an inverse temperature beta per participant
(``--method both`` adds an epsilon-guessing rate). The network runs once; fitting all participants takes seconds.
Given a file in the tidy format (``--data my.csv``), fits the meta-learners and the baselines (GCM, prototype,
RULEX) to it and writes the comparison table too.

    python categorisation/fit_humans.py --task-name badham2017 --model-name ermi_categorisation_dim3
    python categorisation/fit_humans.py --data my_experiment.csv
"""
import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

from categorisation.experiments import DataError, badham_path, load_badham2017
from ermi.api import fit_file
from ermi.codings import MAX_CODINGS, coding_group
from ermi.fitting import cached_logits, fit_participants, write_fits
from ermi.model import load_model
from ermi.paths import device_or_default, domain_dir, file_sha256, resolve_model
from ermi.tidy import TidyError, is_tidy

TASKS = {"badham2017": (badham_path, load_badham2017)}
OUTPUT_DIR = domain_dir("categorisation") / "data" / "model_comparison"


def model_label(model_path: Path) -> str:
    """Short model name for tables: the weight file's stem up to the first underscore (ermi, mi, pfn, ...)."""
    return model_path.stem.split("_")[0]


def fit(task_name, model_name, data_path=None, method="soft_sigmoid", beta_max=10.0, device=None, label=None,
        max_codings=MAX_CODINGS):
    """Returns (fits DataFrame rows, provenance dict). The choice probability is averaged over the coding group of
    the data (the whole group up to ``max_codings`` codings, else a seeded sample; 1: the data as coded)."""
    default_path, loader = TASKS[task_name]
    data_path = Path(data_path or default_path())
    data = loader(data_path)
    model_path = resolve_model(model_name)
    model = load_model(model_path, device_or_default(device))
    if model.cfg.num_dims != data.x.shape[-1]:
        raise ValueError(f"{model_path}: model takes {model.cfg.num_dims} features, {data_path} has {data.x.shape[-1]}")
    codings = coding_group(data.x.shape[-1], max_codings)
    logits = cached_logits(model, data, codings, device=device_or_default(device), progress=True)
    rows = fit_participants(logits, data, epsilon=method == "both", beta_max=beta_max)
    name = label or model_label(model_path)
    for row in rows:
        row["model"] = name
    provenance = {"task": task_name, "data": str(data_path), "data_sha256": file_sha256(data_path),
                  "model_file": str(model_path), "model_sha256": file_sha256(model_path), "method": method,
                  "beta_bounds": [0.0, beta_max], "coding_variants_averaged": int(logits.shape[0]),
                  "coding_group_exact": codings.exact,
                  "num_participants": len(rows)}
    return rows, provenance


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--task-name", choices=sorted(TASKS), default="badham2017")
    parser.add_argument("--model-name", nargs="+", default=None,
                        help="weight file(s), or names under trained_models/ (one for --task-name; with a tidy "
                             "--data file, default: every shipped model that takes its number of features)")
    parser.add_argument("--data", default=None, help="human data CSV: the task's own format (default: its file in "
                        "data/human), or any experiment in the tidy format (README, 'Your own experiment')")
    parser.add_argument("--baselines", nargs="*", default=None, choices=["gcm", "pm", "rulex"],
                        help="with a tidy --data file: baselines to fit too (default: all three)")
    parser.add_argument("--restarts", type=int, default=5, help="baselines' random restarts (tidy --data)")
    parser.add_argument("--output-dir", default=None, help=f"tidy --data: where fits go (default: {OUTPUT_DIR})")
    parser.add_argument("--method", choices=["soft_sigmoid", "both"], default="soft_sigmoid",
                        help="soft_sigmoid: beta only; both: beta and epsilon-guessing")
    parser.add_argument("--beta-max", type=float, default=10.0, help="upper bound of beta")
    parser.add_argument("--max-codings", type=int, default=MAX_CODINGS,
                        help="codings of the data averaged over (the whole group of 96 for 3 features; 1: as coded, "
                             "which makes the fit depend on the coding)")
    parser.add_argument("--label", default=None, help="model name in the output (default: from the file name)")
    parser.add_argument("--output", default=None, help=f"fits CSV (default: {OUTPUT_DIR}/<task>_<label>.csv)")
    parser.add_argument("--device", default=None)
    args = parser.parse_args(argv)
    started = time.time()
    try:
        if args.data and Path(args.data).is_file() and is_tidy(args.data):
            fit_file(args.data, "categorisation", args.model_name, args.baselines, args.output_dir, args.restarts)
            return
        if not args.model_name or len(args.model_name) > 1:
            parser.error("--task-name fits one --model-name at a time (several need a tidy --data file)")
        rows, provenance = fit(args.task_name, args.model_name[0], args.data, args.method, args.beta_max, args.device,
                               args.label, args.max_codings)
    except (DataError, TidyError, FileNotFoundError, ValueError) as err:
        parser.exit(2, f"error: {err}\n")
    label = rows[0]["model"]
    output = Path(args.output or OUTPUT_DIR / f"{args.task_name}_{label}.csv")
    df = write_fits(rows, output, started, **provenance)
    summary = df[["beta", "nll", "bic", "pseudo_r2", "accuracy"]].agg(["mean", "std"]).T
    with pd.option_context("display.float_format", "{:.3f}".format):
        print(f"{label} on {args.task_name}: {len(df)} participants, {int(df.n_trials.sum())} trials, "
              f"{time.time() - started:.1f} s\n{summary}")
    print(f"wrote {output} (+ .json sidecar); NLL per trial {df.nll.sum() / df.n_trials.sum():.4f} "
          f"(chance {np.log(2):.4f})")


if __name__ == "__main__":
    main()
