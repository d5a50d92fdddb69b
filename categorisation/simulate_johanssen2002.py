"""Simulate Johansen & Palmeri (2002): learn the 5-4 structure, then generalise to transfer items T1-T7.

Each run trains on ``--num-blocks`` blocks of the nine training items (random order per block), then every one of
the 16 items is queried at the next position, all 16 in one forward pass (ermi.model's queries). P(A) is averaged
over runs and over a seeded sample of the coding group (ermi.codings), and compared with the human transfer data.

    python categorisation/simulate_johanssen2002.py --model-names mi_categorisation_dim4
"""
import argparse
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch

from categorisation.experiments import johansen_items, load_johansen2002
from ermi.codings import MAX_CODINGS, coding_group
from ermi.episodes import make_tokens, with_queries
from ermi.model import load_model
from ermi.paths import FIGURES, device_or_default, domain_dir, ensure_parent, resolve_model, write_sidecar


def transfer_probabilities(model, num_runs, num_blocks, betas, seed, device="cpu", max_codings=MAX_CODINGS):
    """P(category A) per beta and item: array [len(betas), 16], items in johansen_items() order.

    A run is a random order of the 9 training items in each block (true feedback), then all 16 items as queries
    in one pass (each as if it were the next trial, its own label never seen). Probabilities are averaged over a
    seeded sample of the coding group (label swap x feature flips x feature order; 768 codings at 4-D)."""
    names, items = johansen_items()
    train_idx = torch.tensor([i for i, n in enumerate(names) if n[0] in "AB"])
    labels = torch.tensor([0.0 if n[0] == "A" else 1.0 for n in names])
    g = torch.Generator().manual_seed(seed)
    order = torch.rand(num_runs, num_blocks, len(train_idx), generator=g).argsort(-1)
    sequence = train_idx[order].reshape(num_runs, -1)
    x, y = with_queries(items[sequence], labels[sequence], items[None].expand(num_runs, -1, -1))
    codings = coding_group(items.shape[1], max_codings, seed)
    p1 = []
    with torch.inference_mode():
        for run in range(num_runs):
            cx, cy = codings.apply(x[run], y[run])
            logits = model(make_tokens(cx, cy).to(device), num_queries=len(names))[:, -len(names):]
            p1.append(codings.decode(logits.cpu().double()))
    logits = torch.stack(p1, dim=1)  # [V, runs, 16]
    return names, np.stack([(1 - torch.sigmoid(beta * logits)).mean(dim=(0, 1)).numpy() for beta in betas])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--model-names", nargs="+", required=True, help="4-D weight files or names under trained_models/")
    parser.add_argument("--num-runs", type=int, default=32, help="random training orders")
    parser.add_argument("--num-blocks", type=int, default=16, help="training blocks of 9 items before transfer")
    parser.add_argument("--betas", type=float, nargs="+", default=[0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0])
    parser.add_argument("--max-codings", type=int, default=MAX_CODINGS,
                        help="codings averaged over (a seeded sample of the 768 at 4-D)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", default=str(domain_dir("categorisation") / "data" / "simulations" / "johanssen2002.csv"))
    parser.add_argument("--figure", default=str(FIGURES / "johanssen2002.png"))
    parser.add_argument("--device", default=None)
    args = parser.parse_args(argv)
    started = time.time()
    device = device_or_default(args.device)
    human = load_johansen2002()
    rows, best = [], {}
    for name in args.model_names:
        path = resolve_model(name)
        model = load_model(path, device)
        if model.cfg.num_dims != 4:
            parser.exit(2, f"error: {path}: Johansen & Palmeri has 4 features, the model takes {model.cfg.num_dims}\n")
        names, p_a = transfer_probabilities(model, args.num_runs, args.num_blocks, args.betas, args.seed, device,
                                            args.max_codings)
        transfer = [i for i, n in enumerate(names) if n[0] == "T"]
        target = np.array([human[names[i]] for i in transfer])
        distance = np.linalg.norm(p_a[:, transfer] - target, axis=1)
        label = path.stem.split("_")[0]
        best[label] = (args.betas[int(distance.argmin())], p_a[int(distance.argmin())], float(distance.min()))
        for i, beta in enumerate(args.betas):
            rows += [{"model": label, "beta": beta, "item": n, "p_a": p_a[i, j], "human_p_a": human[n],
                      "distance_transfer": distance[i]} for j, n in enumerate(names)]
    output = ensure_parent(args.output)
    pd.DataFrame(rows).to_csv(output, index=False)
    write_sidecar(output, started, models=[str(resolve_model(n)) for n in args.model_names], seed=args.seed,
                  num_runs=args.num_runs, num_blocks=args.num_blocks, betas=args.betas, max_codings=args.max_codings)

    fig, ax = plt.subplots(figsize=(9, 3.4))
    width = 0.8 / (len(best) + 1)
    ax.bar(np.arange(len(names)), [human[n] for n in names], width, label="Human", color="0.3")
    for k, (label, (beta, p, d)) in enumerate(best.items(), start=1):
        ax.bar(np.arange(len(names)) + k * width, p, width, label=f"{label} (beta={beta:g}, dist={d:.2f})")
    ax.set_xticks(np.arange(len(names)) + width * len(best) / 2, names)
    ax.set_ylabel("P(category A)")
    ax.set_ylim(0, 1.15)
    ax.legend(fontsize=8, frameon=False, ncol=len(best) + 1, loc="upper center")
    ax.set_yticks([0, 0.2, 0.4, 0.6, 0.8, 1.0])
    fig.tight_layout()
    fig.savefig(ensure_parent(args.figure), dpi=150)
    for label, (beta, p, d) in best.items():
        print(f"{label}: best beta {beta:g}, distance to human T1-T7 {d:.3f}; "
              + " ".join(f"{n}={p[i]:.2f}" for i, n in enumerate(names) if n[0] == "T"))
    print("human: " + " ".join(f"{n}={human[n]:.2f}" for n in names if n[0] == "T"))
    print(f"wrote {output}, {args.figure}")


if __name__ == "__main__":
    main()
