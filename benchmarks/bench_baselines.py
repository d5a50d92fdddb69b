"""Benchmark: GCM, prototype model and RULEX fitted to all Badham et al. (2017) participants.

Runs on the full 95-participant file. Target: all three models in <= 2 minutes on 2 CPU cores.

  python benchmarks/bench_baselines.py
"""
import argparse
import time

import pandas as pd

from categorisation.baselines.base import fit_participants
from categorisation.baselines.run_baselines import make_model
from categorisation.experiments import badham_path, load_badham2017


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--restarts", type=int, default=5)
    parser.add_argument("--models", nargs="+", default=["gcm", "pm", "rulex"])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    data = load_badham2017(badham_path())
    rows, total = [], time.time()
    for name in args.models:
        started = time.time()
        fits = pd.DataFrame(fit_participants(make_model(name), data, restarts=args.restarts, seed=args.seed))
        seconds = time.time() - started
        rows.append({"model": name, "participants": len(fits), "trials": int(fits.n_trials.sum()),
                     "restarts": args.restarts, "k": int(fits.k.iloc[0]), "seconds": round(seconds, 2),
                     "ms_per_participant": round(1000 * seconds / len(fits), 1), "mean_nll": round(fits.nll.mean(), 2),
                     "mean_bic": round(fits.bic.mean(), 2)})
    print(f"data: {badham_path().name}")
    print(pd.DataFrame(rows).to_string(index=False))
    print(f"total {time.time() - total:.1f} s")


if __name__ == "__main__":
    main()
