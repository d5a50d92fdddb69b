"""DeLosh, Busemeyer & McDaniel (1997): learn a linear, exponential or quadratic function from 20 training inputs in
[30, 70], then predict over the whole range [0, 100]. People extrapolate the linear function well and bend the
others towards a line. Each learner trains on the same random orders of the training points (inputs scaled by the
input range 0-100, responses by the function's range there, as on a response scale) and answers every test input
without feedback; predictions are mapped back to raw units. Reported: the mean absolute deviation from the true
function below, inside and above the training range.

    python functionlearning/simulate_delosh1997.py
"""
import argparse
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch

from ermi.paths import FIGURES, domain_dir, ensure_parent, write_sidecar
from functionlearning.experiments import DELOSH_FUNCTIONS, INPUT_RANGE, TRAINING_RANGE, Scale, delosh_training
from functionlearning.learners import default_learners, make_learner


def predictions(learner, function, num_runs, queries_raw, seed=0):
    """Mean prediction (raw units) at each query input, averaged over training orders."""
    f = DELOSH_FUNCTIONS[function]
    scale = Scale.for_function(f)
    x_raw, y_raw = delosh_training(function, num_runs, seed=seed)
    queries = torch.as_tensor(scale.x(queries_raw), dtype=torch.float64)[None].expand(num_runs, -1)
    mean, _ = learner.after_training(scale.x(x_raw), scale.y(y_raw), queries)
    return scale.raw_y(mean.mean(0).numpy())


def region(x):
    return np.where(x < TRAINING_RANGE[0], "below", np.where(x > TRAINING_RANGE[1], "above", "inside"))


def plot(curves, path):
    functions = list(DELOSH_FUNCTIONS)
    fig, axes = plt.subplots(1, len(functions), figsize=(4.2 * len(functions), 3.6))
    for ax, function in zip(axes, functions):
        c = curves[curves.function == function]
        ax.axvspan(*TRAINING_RANGE, color="0.92")
        truth = c[c.learner == c.learner.iloc[0]]
        ax.plot(truth.x, truth.truth, color="k", lw=2.5, label="true function")
        for learner, g in c.groupby("learner", sort=False):
            ax.plot(g.x, g.prediction, lw=1.3, label=learner)
        ax.set_title(function)
        ax.set_xlabel("input (grey: training range)")
        ax.spines[["top", "right"]].set_visible(False)
    axes[0].set_ylabel("prediction")
    axes[-1].legend(frameon=False, fontsize=7)
    fig.tight_layout()
    fig.savefig(ensure_parent(path), dpi=150)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--learners", nargs="+", default=None,
                        help="weight files or baseline names (default: shipped function-learning models and every baseline)")
    parser.add_argument("--num-runs", type=int, default=16, help="random orders of the training points")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", default=str(domain_dir("functionlearning") / "data" / "simulations" / "delosh1997.csv"))
    parser.add_argument("--figure", default=str(FIGURES / "delosh1997_extrapolation.png"))
    args = parser.parse_args(argv)
    started = time.time()
    queries = np.linspace(*INPUT_RANGE, 51)
    rows = []
    for name in args.learners or default_learners():
        learner = make_learner(name)
        for function, f in DELOSH_FUNCTIONS.items():
            prediction = predictions(learner, function, args.num_runs, queries, args.seed)
            rows += [{"learner": learner.name, "function": function, "x": x, "prediction": p, "truth": f(x)}
                     for x, p in zip(queries, prediction)]
    curves = pd.DataFrame(rows)
    output = ensure_parent(args.output)
    curves.to_csv(output, index=False)
    errors = (curves.assign(region=region(curves.x), error=(curves.prediction - curves.truth).abs())
              .pivot_table(index=["learner", "function"], columns="region", values="error", sort=False)
              [["below", "inside", "above"]])
    write_sidecar(output, started, num_runs=args.num_runs, seed=args.seed,
                  mean_abs_error=errors.round(2).reset_index().to_dict(orient="records"))
    plot(curves, args.figure)
    print("mean absolute deviation from the true function (raw units), by input region:")
    print(errors.to_string(float_format=lambda v: f"{v:.1f}"))
    print(f"wrote {output}, {args.figure}")


if __name__ == "__main__":
    main()
