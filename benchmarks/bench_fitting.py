"""Time to fit a meta-learner (beta per participant) to every Badham et al. (2017) participant.

Uses the full 95-participant file when it is present; otherwise 95 participants are made by replicating the real
excerpt's participants (same trial sequences, same format), so the timing reflects the full experiment's size.

    python benchmarks/bench_fitting.py [--model-name ermi_categorisation_dim3]
"""
import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from categorisation.experiments import HUMAN, badham_path, load_badham2017, write_badham_format
from categorisation.fit_humans import fit
from ermi.fitting import ChoiceData
from ermi.paths import TRAINED_MODELS


def full_size_file(folder) -> Path:
    full = HUMAN / "badham2017deficits.csv"
    if full.exists():
        return full
    data = load_badham2017(badham_path())
    n = len(data.participants())
    reps = int(np.ceil(95 / n))
    idx = torch.as_tensor(np.tile(np.arange(len(data.lengths)), reps))
    participant = np.repeat(np.arange(reps), len(data.lengths)) * n + np.tile(data.participant, reps)
    copies = ChoiceData(data.x[idx], data.targets[idx], data.choices[idx], data.lengths[idx], participant,
                        np.tile(data.condition, reps))
    path = Path(folder) / "badham2017_95.csv"
    write_badham_format(copies.subset(participant < 95), path)
    return path


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model-name", default=str(TRAINED_MODELS / "ermi_categorisation_dim3.pt"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = full_size_file(folder)
        print(f"{'method':14s} {'participants':>12s} {'trials':>8s} {'seconds':>8s}")
        for method in ("soft_sigmoid", "both"):
            started = time.perf_counter()
            rows, _ = fit("badham2017", args.model_name, path, method=method)
            seconds = time.perf_counter() - started
            print(f"{method:14s} {len(rows):12d} {sum(r['n_trials'] for r in rows):8d} {seconds:8.1f}")


if __name__ == "__main__":
    main()
