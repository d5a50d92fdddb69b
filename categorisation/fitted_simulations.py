"""Simulate each participant with their own fitted parameters: the model runs on the participant's trial sequence
(teacher-forced with the true feedback, as in fitting) and choices are sampled from its probabilities. The output
has the human file's format, so every analysis (baselines, model comparison, plots) runs on it unchanged.

    python categorisation/fitted_simulations.py --model-name ermi_categorisation_dim3 \
        --fits categorisation/data/model_comparison/badham2017_ermi.csv
"""
import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from categorisation.experiments import DataError, badham_path, load_badham2017, write_badham_format
from ermi.fitting import cached_logits, simulate_choices
from ermi.model import load_model
from ermi.paths import device_or_default, domain_dir, ensure_parent, file_sha256, resolve_model, write_sidecar


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--task-name", choices=["badham2017"], default="badham2017")
    parser.add_argument("--model-name", required=True)
    parser.add_argument("--fits", required=True, help="fits CSV from fit_humans.py (beta, optional epsilon)")
    parser.add_argument("--data", default=None, help="human data CSV (default: the task's file)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", default=None,
                        help="default: categorisation/data/fitted_simulation/<task>_<model>.csv")
    parser.add_argument("--device", default=None)
    args = parser.parse_args(argv)
    started = time.time()
    data_path = Path(args.data or badham_path())
    try:
        data = load_badham2017(data_path)
        fits = pd.read_csv(args.fits).set_index("participant")
        missing = sorted(set(data.participants()) - set(fits.index))
        if missing:
            raise DataError(f"{args.fits}: no fitted parameters for participant(s) {missing[:5]}")
        model_path = resolve_model(args.model_name)
    except (DataError, FileNotFoundError, KeyError) as err:
        parser.exit(2, f"error: {err}\n")
    model = load_model(model_path, device_or_default(args.device))
    logits = cached_logits(model, data, device=device_or_default(args.device))
    beta = fits.loc[data.participant, "beta"].to_numpy()
    epsilon = fits.loc[data.participant, "epsilon"].to_numpy() if "epsilon" in fits else np.zeros(len(beta))
    generator = torch.Generator().manual_seed(args.seed)
    data.choices = simulate_choices(logits, data, beta, generator, torch.as_tensor(epsilon)[:, None])
    label = model_path.stem.split("_")[0]
    output = ensure_parent(args.output or domain_dir("categorisation") / "data" / "fitted_simulation"
                           / f"{args.task_name}_{label}.csv")
    write_badham_format(data, output)
    write_sidecar(output, started, model_file=str(model_path), model_sha256=file_sha256(model_path),
                  fits=str(args.fits), data=str(data_path), seed=args.seed)
    accuracy = float(((data.choices == data.targets).float() * data.mask).sum() / data.mask.sum())
    print(f"simulated {len(data.participants())} participants ({int(data.mask.sum())} trials), "
          f"accuracy {accuracy:.3f}; wrote {output}")


if __name__ == "__main__":
    main()
