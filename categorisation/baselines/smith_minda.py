"""Exemplar or prototype? Fit the GCM and the prototype model, segment by segment, to the choices of simulated
learners on the Smith & Minda (1998) six-dimensional design, as Smith & Minda did with their participants.

Each simulated learner sees ``segments`` x ``blocks`` blocks of the 14 stimuli (random order within a block), with
true feedback. Learners are meta-learners given by weight files (ERMI / MI / PFN, at inverse temperature --beta)
and, as sanity checks, the online GCM or prototype model with random parameters (--baselines). For every learner
and segment both models predict P(category B) for each of the 14 stimuli (GCM: all 14 training exemplars in
memory; prototype model: the category prototypes 000000 and 111111), and their parameters (c, eps, attention on
the simplex) minimise the summed squared error to the learner's observed proportions of B in that segment.
The figure sets the mean SSE per segment beside Smith & Minda's human curves (smith1998.json).

  python categorisation/baselines/smith_minda.py --weights trained_models/ermi_categorisation_dim6.pt
"""
import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from tqdm import tqdm

from categorisation.baselines.base import Seqs, minimise, single_thread
from categorisation.baselines.gcm import C_MAX, U_MAX
from categorisation.baselines.run_baselines import make_model
from categorisation.experiments import DATA, load_smith1998, smith1998_design
from ermi import fitting
from ermi.paths import FIGURES, ensure_parent, write_sidecar

BOUNDS = [(0.0, C_MAX), (0.0, 1.0)] + [(-U_MAX, U_MAX)] * 6


def sequences(runs, segments, blocks, seed):
    """ChoiceData (choices still empty) and the stimulus index [R, T] of every trial."""
    x14, y14, _ = smith1998_design()
    generator = torch.Generator().manual_seed(seed)
    stimulus = torch.rand(runs, segments * blocks, 14, generator=generator).argsort(-1).reshape(runs, -1)
    T = stimulus.shape[1]
    data = fitting.ChoiceData(x14[stimulus], y14[stimulus], torch.zeros(runs, T), torch.full((runs,), T),
                              np.arange(runs), np.zeros(runs, dtype=int))
    return data, stimulus


def simulate(learner, data, beta, seed):
    """Choices [R, T] of a meta-learner (a weight file) or of an online baseline ('gcm' / 'pm')."""
    rng = np.random.default_rng(seed)
    if learner in ("gcm", "pm"):
        model = make_model(learner, num_dims=6)
        seqs = Seqs.from_data(data)
        with single_thread():
            p1 = torch.cat([model.probabilities(model.sample_raw(rng, 1), seqs.select([r]))
                            for r in range(len(data.x))])
        return (torch.from_numpy(rng.random(tuple(p1.shape))) < p1).float()
    from ermi.model import load_model

    net = load_model(learner)
    if net.cfg.num_dims != 6:
        raise ValueError(f"{learner}: a {net.cfg.num_dims}-D model; the Smith & Minda design needs 6-D weights")
    logits = fitting.cached_logits(net, data)
    return fitting.simulate_choices(logits, data, beta, torch.Generator().manual_seed(seed))


def predictions(model, raw, x14, y14, prototypes):
    """P(category B) of each of the 14 stimuli under the exemplar ('gcm') or prototype ('pm') model."""
    c, eps, w = raw[0], raw[1], torch.softmax(raw[2:], dim=0)
    if model == "gcm":
        sim = torch.exp(-c * ((x14[:, None, :] - x14[None, :, :]).abs() @ w))
        p = (sim @ y14) / sim.sum(1)
    else:
        sim = torch.exp(-c * ((x14[:, None, :] - prototypes[None]).abs() @ w))  # [14, 2]
        p = sim[:, 1] / sim.sum(1)
    return (1 - eps) * p + eps / 2


def fit_segments(choices, stimulus, segments, restarts, seed):
    """One row per (run, segment, model): SSE and parameters."""
    x14, y14, prototypes = (torch.as_tensor(a, dtype=torch.float64) for a in smith1998_design())
    runs, T = choices.shape
    per = T // segments
    onehot = torch.nn.functional.one_hot(stimulus, 14).double().view(runs, segments, per, 14)
    observed = (onehot * choices.double().view(runs, segments, per, 1)).sum(2) / onehot.sum(2)  # [R, G, 14]
    rng = np.random.default_rng(seed)
    rows = []
    with single_thread():
        for r in tqdm(range(runs), desc="segment fits", leave=False):
            for g in range(segments):
                for model in ("gcm", "pm"):
                    def loss(theta, model=model, target=observed[r, g]):
                        return ((predictions(model, theta, x14, y14, prototypes) - target) ** 2).sum()

                    raw, sse = minimise(loss, BOUNDS, restarts, rng)
                    rows.append({"run": r, "segment": g + 1, "fitted": model, "sse": sse, "c": raw[0],
                                 "epsilon": raw[1], **{f"w{d + 1}": v for d, v in
                                                       enumerate(torch.softmax(torch.tensor(raw[2:]), 0).tolist())}})
    return rows


def plot(summary, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    human = load_smith1998()
    learners = list(dict.fromkeys(summary.learner))
    fig, axes = plt.subplots(1, len(learners) + 1, figsize=(3.6 * (len(learners) + 1), 3.4), sharey=False)
    colours = {"gcm": "tab:blue", "pm": "tab:red", "exemplar": "tab:blue", "prototype": "tab:red"}
    for ax, learner in zip(axes, learners):
        for model, label in (("gcm", "exemplar (GCM)"), ("pm", "prototype")):
            s = summary[(summary.learner == learner) & (summary.fitted == model)]
            ax.errorbar(s.segment, s.sse_mean, yerr=s.sse_sem, color=colours[model], label=label, marker="o", ms=3)
        ax.set_title(f"learner: {learner}")
        ax.set_xlabel("segment")
    axes[0].set_ylabel("SSE (lower = better fit)")
    ax = axes[-1]
    for model, curve in human.items():
        ax.plot(np.arange(1, len(curve) + 1), curve, color=colours[model], label=model, marker="o", ms=3)
    ax.set_title("Smith & Minda 1998 (humans)")
    ax.set_xlabel("segment")
    axes[0].legend(frameon=False, fontsize=8)
    for ax in axes:
        ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    fig.savefig(ensure_parent(path), dpi=150)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--weights", nargs="*", default=[], help="6-D meta-learner weight files")
    parser.add_argument("--baselines", nargs="*", default=[], choices=["gcm", "pm"], help="baseline learners")
    parser.add_argument("--beta", type=float, default=1.0, help="inverse temperature of the meta-learners")
    parser.add_argument("--runs", type=int, default=20, help="simulated learners per model")
    parser.add_argument("--segments", type=int, default=10)
    parser.add_argument("--blocks", type=int, default=4, help="blocks of 14 trials per segment")
    parser.add_argument("--restarts", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", default=str(DATA / "fitted_simulation" / "smith1998_segment_fits.csv"))
    parser.add_argument("--figure", default=str(FIGURES / "smith1998_exemplar_vs_prototype.png"))
    args = parser.parse_args(argv)
    if not args.weights and not args.baselines:
        parser.error("give --weights (6-D meta-learners) and/or --baselines")

    started = time.time()
    data, stimulus = sequences(args.runs, args.segments, args.blocks, args.seed)
    rows = []
    for learner in args.baselines + args.weights:
        name = learner if learner in ("gcm", "pm") else Path(learner).stem.split("_")[0]
        choices = simulate(learner, data, args.beta, args.seed)
        rows += [{"learner": name, **row} for row in fit_segments(choices, stimulus, args.segments, args.restarts,
                                                                  args.seed)]
    fits = pd.DataFrame(rows)
    fits.to_csv(ensure_parent(args.output), index=False)
    write_sidecar(args.output, started, weights=args.weights, baselines=args.baselines, beta=args.beta,
                  runs=args.runs, seed=args.seed, restarts=args.restarts)
    grouped = fits.groupby(["learner", "fitted", "segment"], sort=False).sse
    summary = grouped.mean().rename("sse_mean").to_frame().join(grouped.sem().rename("sse_sem")).reset_index()
    plot(summary, args.figure)
    table = summary.pivot_table(index=["learner", "segment"], columns="fitted", values="sse_mean")
    print(table.round(3).to_string())
    print(f"-> {args.output}, {args.figure} ({time.time() - started:.1f}s)")


if __name__ == "__main__":
    try:
        main()
    except (ValueError, FileNotFoundError) as err:
        raise SystemExit(f"error: {err}")
