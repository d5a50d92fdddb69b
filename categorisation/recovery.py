"""Parameter and model recovery on the Badham et al. (2017) design.

Synthetic participants are simulated from each model with known parameters (drawn from the model's recovery
range) on the real stimulus sequences with their true feedback, then every model is refitted to every synthetic
participant. Reported: the correlation between true and recovered parameters of the generating model, and the
model-recovery confusion matrix P(best BIC = fitted model | generating model). With ``--weights`` a trained
meta-learner (beta drawn uniformly from --beta-range) joins both as a generator and as a fitted model.

  python categorisation/recovery.py --participants 20 --models gcm pm rulex
"""
import argparse
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from categorisation.baselines.base import Seqs, fit_participants as fit_baseline, single_thread
from categorisation.baselines.run_baselines import make_model
from categorisation.experiments import DATA, load_badham2017
from ermi import fitting
from ermi.paths import FIGURES
from ermi.recovery import report

OUTPUT_DIR = DATA / "recovery"


def synthetic_design(data, participants):
    """``participants`` copies of the real participants' sequences (cycled), each as a new participant id."""
    owners = data.participants()
    blocks = [np.flatnonzero(data.participant == owners[i % len(owners)]) for i in range(participants)]
    idx = np.concatenate(blocks)
    ids = np.concatenate([np.full(len(b), i) for i, b in enumerate(blocks)])
    t = torch.as_tensor(idx)
    return fitting.ChoiceData(data.x[t], data.targets[t], data.choices[t].clone(), data.lengths[t], ids,
                              data.condition[idx])


class MetaLearner:
    """A trained network as a recovery model: simulation and beta fits on cached logits."""

    def __init__(self, weights, beta_range=(0.5, 3.0), name=None):
        from ermi.model import load_model

        self.net, self.beta_range = load_model(weights), beta_range
        self.name = name or Path(weights).stem.split("_")[0]
        self._cache = {}

    def logits(self, data):
        key = id(data.x)
        if key not in self._cache:
            self._cache = {key: fitting.cached_logits(self.net, data)}
        return self._cache[key]

    def simulate(self, data, rng):
        betas = rng.uniform(*self.beta_range, len(data.participants()))
        per_seq = betas[np.searchsorted(data.participants(), data.participant)]
        generator = torch.Generator().manual_seed(int(rng.integers(2**31)))
        choices = fitting.simulate_choices(self.logits(data), data, per_seq, generator)
        return choices, [{"beta": b} for b in betas]

    def fit(self, data, restarts, seed):
        rows = fitting.fit_participants(self.logits(data), data)
        for row in rows:
            row["model"] = self.name
        return rows


def simulate_baseline(model, data, rng):
    """Choices sampled online from a baseline with per-participant parameters; returns (choices, true params)."""
    seqs = Seqs.from_data(data)
    choices, truths = torch.zeros_like(data.choices), []
    with single_thread():
        for pid in data.participants():
            idx = np.flatnonzero(data.participant == pid)
            unit = seqs.select(idx)
            raw = model.sample_raw(rng, len(idx))
            p1 = model.probabilities(raw, unit)
            draw = torch.from_numpy(rng.random(tuple(p1.shape))) < p1
            choices[torch.as_tensor(idx), :p1.shape[1]] = (draw.double() * unit.mask).float()
            truth = model.natural(raw, len(idx)) if hasattr(model, "natural") else {"g": raw["g"]}
            truths.append({k: v for k, v in truth.items() if isinstance(v, float)})
    return choices, truths


def run(models, data, participants=20, restarts=3, seed=0):
    """Long table of fits: generator, participant, fitted model, bic, and true/recovered parameters."""
    design = synthetic_design(data, participants)
    rng = np.random.default_rng(seed)
    records = []
    for generator in models:
        if isinstance(generator, MetaLearner):
            choices, truths = generator.simulate(design, rng)
        else:
            choices, truths = simulate_baseline(generator, design, rng)
        simulated = replace(design, choices=choices)
        for fitted in models:
            if isinstance(fitted, MetaLearner):
                rows = fitted.fit(simulated, restarts, seed)
            else:
                rows = fit_baseline(fitted, simulated, restarts=restarts, seed=seed, progress=False)
            for row, truth in zip(rows, truths):
                record = {"generator": generator.name, "fitted": fitted.name, "participant": row["participant"],
                          "bic": row["bic"], "nll": row["nll"], "k": row["k"]}
                if fitted is generator:
                    record.update({f"true_{k}": v for k, v in truth.items()})
                    record.update({f"fit_{k}": row[k] for k in truth if k in row})
                records.append(record)
        print(f"generated from {generator.name}: refitted {len(models)} models on {participants} participants")
    return pd.DataFrame(records)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=None, help="Badham-format CSV giving the design (default: badham_path())")
    parser.add_argument("--models", nargs="+", default=["gcm", "pm", "rulex"], choices=["gcm", "pm", "rulex"])
    parser.add_argument("--weights", nargs="*", default=[], help="meta-learner weight files to include")
    parser.add_argument("--beta-range", nargs=2, type=float, default=[0.5, 3.0])
    parser.add_argument("--participants", type=int, default=20, help="synthetic participants per generating model")
    parser.add_argument("--restarts", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output-dir", default=str(OUTPUT_DIR))
    parser.add_argument("--figure", default=str(FIGURES / "badham2017_recovery.png"))
    args = parser.parse_args(argv)

    started = time.time()
    data = load_badham2017(args.data)
    models = [make_model(name) for name in args.models] + [MetaLearner(w, tuple(args.beta_range)) for w in args.weights]
    records = run(models, data, args.participants, args.restarts, args.seed)
    report(records, args.output_dir, "badham2017", args.figure, started, seed=args.seed, participants=args.participants,
           restarts=args.restarts, models=[m.name for m in models], weights=args.weights)


if __name__ == "__main__":
    try:
        main()
    except (ValueError, FileNotFoundError) as err:
        raise SystemExit(f"error: {err}")
