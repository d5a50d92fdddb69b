"""Benchmark: GCM, prototype model and RULEX fitted to all Badham et al. (2017) participants.

Uses the full 95-participant file when present; otherwise 95 synthetic participants on the real stimulus
sequences with choices simulated from the GCM, written and re-read in the Badham CSV format. Target: all three
models in <= 2 minutes on 2 CPU cores.

  python benchmarks/bench_baselines.py
"""
import argparse
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from categorisation.baselines.base import fit_participants
from categorisation.baselines.run_baselines import make_model
from categorisation.experiments import HUMAN, load_badham2017, write_badham_format
from categorisation.recovery import simulate_baseline, synthetic_design


def benchmark_data(participants, seed):
    full = HUMAN / "badham2017deficits.csv"
    if full.exists():
        return load_badham2017(full), f"{full.name}"
    design = synthetic_design(load_badham2017(), participants)
    choices, _ = simulate_baseline(make_model("gcm"), design, np.random.default_rng(seed))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "synthetic_badham.csv"
        write_badham_format(replace(design, choices=choices), path)
        return load_badham2017(path), f"{participants} synthetic participants (GCM choices on the real sequences)"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--participants", type=int, default=95)
    parser.add_argument("--restarts", type=int, default=5)
    parser.add_argument("--models", nargs="+", default=["gcm", "pm", "rulex"])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    data, source = benchmark_data(args.participants, args.seed)
    rows, total = [], time.time()
    for name in args.models:
        started = time.time()
        fits = pd.DataFrame(fit_participants(make_model(name), data, restarts=args.restarts, seed=args.seed))
        seconds = time.time() - started
        rows.append({"model": name, "participants": len(fits), "trials": int(fits.n_trials.sum()),
                     "restarts": args.restarts, "k": int(fits.k.iloc[0]), "seconds": round(seconds, 2),
                     "ms_per_participant": round(1000 * seconds / len(fits), 1), "mean_nll": round(fits.nll.mean(), 2),
                     "mean_bic": round(fits.bic.mean(), 2)})
    print(f"data: {source}")
    print(pd.DataFrame(rows).to_string(index=False))
    print(f"total {time.time() - total:.1f} s")


if __name__ == "__main__":
    main()
