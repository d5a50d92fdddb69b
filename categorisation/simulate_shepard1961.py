"""Simulate Shepard, Hovland & Jenkins (1961) types I-VI and compare the error curves with Nosofsky et al. (1994).

Each model learns each canonical type in blocks that show every stimulus twice, in several random trial orders;
its choice probability is averaged over the whole coding group (label swap x feature flips x feature order, 96
codings; ermi.codings), so no relabelling of a type is favoured. The error is the expected one, 1 - P(correct),
from the model's probabilities (no sampling noise). Over a grid of inverse temperatures (1.0 included) the beta
closest to the human curves is reported.

    python categorisation/simulate_shepard1961.py --model-names ermi_categorisation_dim3 mi_categorisation_dim3
"""
import argparse
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from tqdm import tqdm

from categorisation.experiments import SHEPARD_TYPES, load_nosofsky1994, shepard_tasks
from ermi.codings import coded_logits, coding_group
from ermi.model import load_model
from ermi.paths import FIGURES, device_or_default, domain_dir, ensure_parent, resolve_model, write_sidecar

BLOCK = 16
ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV", 5: "V", 6: "VI"}


def block_errors(model, num_tasks, num_blocks, betas, seed, device="cpu"):
    """Expected error per beta, type and block: array [len(betas), 6, num_blocks]."""
    out = np.zeros((len(betas), 6, num_blocks))
    for problem_type in SHEPARD_TYPES:
        generator = torch.Generator().manual_seed(seed + problem_type)
        x, y = shepard_tasks(problem_type, num_tasks, num_blocks, generator, BLOCK)
        logits = coded_logits(model, x, y, coding_group(3), device)
        for i, beta in enumerate(betas):
            p1 = torch.sigmoid(beta * logits).mean(0)
            error = torch.where(y.bool(), 1 - p1, p1)
            out[i, problem_type - 1] = error.view(num_tasks, num_blocks, BLOCK).mean(dim=(0, 2)).numpy()
    return out


def plot(curves: dict, human, num_blocks, path):
    """One panel per model (its best beta) plus the human panel; one line per type."""
    panels = [("Human (Nosofsky et al. 1994)", human[:, :num_blocks])] + list(curves.items())
    fig, axes = plt.subplots(1, len(panels), figsize=(3.6 * len(panels), 3.4), sharey=True)
    colors = plt.cm.viridis(np.linspace(0, 0.9, 6))
    blocks = np.arange(1, num_blocks + 1)
    for ax, (title, errors) in zip(np.atleast_1d(axes), panels):
        for t in range(6):
            ax.plot(blocks, errors[t], marker="o", ms=3, color=colors[t], label=f"Type {ROMAN[t + 1]}")
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("block (16 trials)")
        ax.set_ylim(0, 0.6)
    np.atleast_1d(axes)[0].set_ylabel("P(error)")
    np.atleast_1d(axes)[-1].legend(fontsize=8, frameon=False)
    fig.tight_layout()
    fig.savefig(path, dpi=150)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--model-names", nargs="+", required=True, help="weight files or names under trained_models/")
    parser.add_argument("--num-tasks", type=int, default=8, help="random trial orders per type")
    parser.add_argument("--num-blocks", type=int, default=10)
    parser.add_argument("--betas", type=float, nargs="+", default=[round(0.1 * i, 1) for i in range(1, 11)] + [1.5, 2.0, 3.0])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", default=str(domain_dir("categorisation") / "data" / "simulations" / "shepard1961.csv"))
    parser.add_argument("--figure", default=str(FIGURES / "shepard1961.png"))
    parser.add_argument("--device", default=None)
    args = parser.parse_args(argv)
    started = time.time()
    device = device_or_default(args.device)
    human_by_type = load_nosofsky1994()
    human = np.stack([human_by_type[t] for t in range(1, 7)])
    if args.num_blocks > human.shape[1]:
        parser.exit(2, f"error: --num-blocks {args.num_blocks} exceeds the {human.shape[1]} human blocks\n")
    rows, best_curves, summary = [], {}, []
    for name in tqdm(args.model_names, desc="models"):
        path = resolve_model(name)
        model = load_model(path, device)
        errors = block_errors(model, args.num_tasks, args.num_blocks, args.betas, args.seed, device)
        mse = ((errors - human[None, :, : args.num_blocks]) ** 2).mean(axis=(1, 2))
        best = int(mse.argmin())
        label = path.stem.split("_")[0]
        best_curves[f"{label} (beta={args.betas[best]:g})"] = errors[best]
        summary.append({"model": label, "best_beta": args.betas[best], "mse": mse[best],
                        "mse_beta1": mse[args.betas.index(1.0)] if 1.0 in args.betas else np.nan,
                        **{f"type{ROMAN[t + 1]}": errors[best, t].mean() for t in range(6)}})
        for i, beta in enumerate(args.betas):
            for t in range(6):
                for b in range(args.num_blocks):
                    rows.append({"model": label, "beta": beta, "type": t + 1, "block": b + 1,
                                 "error": errors[i, t, b], "human_error": human[t, b]})
    output = ensure_parent(args.output)
    pd.DataFrame(rows).to_csv(output, index=False)
    write_sidecar(output, started, models=[str(resolve_model(n)) for n in args.model_names], seed=args.seed,
                  num_tasks=args.num_tasks, num_blocks=args.num_blocks, betas=args.betas)
    plot(best_curves, human, args.num_blocks, ensure_parent(args.figure))
    table = pd.DataFrame(summary).set_index("model")
    human_row = pd.Series({f"type{ROMAN[t + 1]}": human[t, : args.num_blocks].mean() for t in range(6)}, name="human")
    with pd.option_context("display.float_format", "{:.3f}".format, "display.width", 200, "display.max_columns", 20):
        print("mean error over blocks (best beta per model):")
        print(pd.concat([table, human_row.to_frame().T]))
    print(f"wrote {output}, {args.figure}")


if __name__ == "__main__":
    main()
