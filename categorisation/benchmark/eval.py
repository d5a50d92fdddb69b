"""Real-world benchmark: meta-learners (ERMI, MI, PFN) as in-context classifiers against standard learners.

Each set of the cached evaluation data (save_eval_data.py) has 30 training and 70 test points with 4 features.
A learner fits the training points and scores the test points; accuracy and ROC-AUC are kept per (task, set).
A meta-learner is the scikit-learn estimator ermi.classifier.InContextClassifier: it scores all test points of a
set in one forward pass, each test point a query after the 30 training points (never one pass per point). Inputs
are clipped to [0, 1] (test points keep the training points' scale). ``--n-codings K`` averages each prediction
over K codings of the data (label swap, feature flips and order), as the human fits do.

    python categorisation/benchmark/eval.py --offline --models ermi_categorisation_dim4 mi_categorisation_dim4
"""
import argparse
import json
import sys
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.svm import SVC
from tqdm import tqdm

from ermi.classifier import InContextClassifier
from ermi.model import load_model
from ermi.paths import FIGURES, device_or_default, domain_dir, ensure_parent, resolve_model, write_sidecar

FOLDER = domain_dir("categorisation") / "data" / "benchmark"
DEFAULT_MODELS = ["ermi_categorisation_dim4", "mi_categorisation_dim4", "pfn_categorisation_dim4"]
PUBLISHED = FOLDER / "mean_performance.csv"


def baselines(seed=0):
    """Name -> unfitted classifier with default settings; XGBoost only when installed. The SVM ranks test points
    by its decision function (Platt-scaled probabilities are deprecated in scikit-learn 1.9)."""
    models = {"Logistic regression": LogisticRegression(), "SVM": SVC(),
              "Random forest": RandomForestClassifier(random_state=seed),
              "Gradient boosting": GradientBoostingClassifier(random_state=seed)}
    try:
        from xgboost import XGBClassifier
        models["XGBoost"] = XGBClassifier(n_estimators=10, random_state=seed)
    except ImportError:
        pass
    return models


def load_sets(path, max_sets=None):
    """(task ids [N], set ids [N], x [N, P, D], y [N, P]): one row per (task, set), points in point_idx order."""
    try:
        df = pd.read_csv(path)
    except FileNotFoundError:
        sys.exit(f"error: {path}: no evaluation data (run categorisation/benchmark/save_eval_data.py, "
                 "with --offline where OpenML cannot be reached)")
    if max_sets is not None:
        df = df[df.set_idx < max_sets]
    df = df.sort_values(["task_idx", "set_idx", "point_idx"], kind="stable")
    groups = [g for _, g in df.groupby(["task_idx", "set_idx"], sort=True)]
    x = np.stack([np.array([json.loads(v) for v in g["input"]], dtype=np.float32) for g in groups])
    y = np.stack([g["target"].to_numpy(np.float32) for g in groups])
    tasks = np.array([g["task_idx"].iloc[0] for g in groups])
    sets = np.array([g["set_idx"].iloc[0] for g in groups])
    return tasks, sets, x, y


def scores(predicted, score, y):
    """(accuracy, ROC-AUC) of 0/1 predictions and a ranking score for labels y; AUC is NaN when y has one class."""
    accuracy = float((predicted == y).mean())
    auc = float(roc_auc_score(y, score)) if len(np.unique(y)) == 2 else float("nan")
    return accuracy, auc


def run_baselines(tasks, sets, x, y, num_train, seed=0):
    rows = []
    for i in tqdm(range(len(x)), desc="baselines"):
        for name, clf in baselines(seed).items():
            clf.fit(x[i, :num_train], y[i, :num_train])
            test = x[i, num_train:]
            score = clf.predict_proba(test)[:, 1] if hasattr(clf, "predict_proba") else clf.decision_function(test)
            rows.append((tasks[i], sets[i], name, *scores(clf.predict(test), score, y[i, num_train:])))
    return rows


def run_meta_learners(models, tasks, sets, x, y, num_train, device, n_codings=1):
    """Rows for every model that loads and takes D features; the others are skipped with a note. Each set is one
    InContextClassifier fit (its 30 training points) and one batched pass over its test points."""
    rows = []
    for name_or_path in models:
        try:
            path = resolve_model(name_or_path)
        except FileNotFoundError:
            print(f"note: skipping {name_or_path}: no weight file (train a {x.shape[-1]}-D model first)")
            continue
        num_dims = load_model(path).cfg.num_dims
        if num_dims != x.shape[-1]:
            print(f"note: skipping {path.name}: it takes {num_dims} features, the data have {x.shape[-1]}")
            continue
        label = model_label(path)
        clf = InContextClassifier(str(path), n_codings=n_codings, device=device)
        for i in tqdm(range(len(x)), desc=label):
            p = clf.fit(x[i, :num_train], y[i, :num_train]).predict_proba(x[i, num_train:])[:, 1]
            rows.append((tasks[i], sets[i], label, *scores(p > 0.5, p, y[i, num_train:])))
    return rows


def model_label(path):
    """'ermi_categorisation_dim4.pt' -> 'ERMI' (likewise MI, PFN); any other file keeps its stem, so two weight
    files never share a label."""
    stem = Path(path).stem
    return stem.split("_")[0].upper() if stem in DEFAULT_MODELS else stem


def rank_table(per_task):
    """Mean accuracy, mean AUC and mean rank over tasks (rank 1 = best accuracy on a task)."""
    accuracy = per_task.pivot(index="task_idx", columns="model", values="accuracy")
    ranks = accuracy.rank(axis=1, ascending=False)
    auc = per_task.pivot(index="task_idx", columns="model", values="auc")
    table = pd.DataFrame({"accuracy": accuracy.mean(), "auc": auc.mean(), "mean_rank": ranks.mean()})
    return table.sort_values("mean_rank")


def plot(per_task, figure):
    """Mean accuracy by model over our tasks, beside the reference's published numbers on the same task ids."""
    published = pd.read_csv(PUBLISHED, index_col=0)
    shared = sorted(set(per_task.task_idx) & set(published.index))
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True, gridspec_kw={"width_ratios": [3, 2]})
    ours = per_task.pivot(index="task_idx", columns="model", values="accuracy")
    panels = [(axes[0], ours, f"this run ({len(ours)} task(s))"),
              (axes[1], published.loc[shared], f"published, task id(s) {', '.join(map(str, shared)) or 'none shared'}")]
    for ax, table, title in panels:
        positions = np.arange(table.shape[1])
        ax.bar(positions, table.mean(), color="0.75")
        for task, row in table.iterrows():
            colour = "C3" if task in shared else "k"
            ax.plot(positions, row.to_numpy(), "o", ms=3, color=colour, alpha=0.7)
        ax.set_xticks(positions, table.columns, rotation=40, ha="right")
        ax.set_title(title, fontsize=10)
        ax.axhline(0.5, ls=":", color="0.4")
    axes[0].set_ylabel("test accuracy")
    fig.suptitle("bars: mean over tasks; dots: one task each (red: a task id with published numbers)", fontsize=9)
    axes[0].set_ylim(0.4, 1.0)
    fig.tight_layout()
    fig.savefig(ensure_parent(figure), dpi=150)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--offline", action="store_true", help="evaluate on eval_data_offline.csv")
    parser.add_argument("--data", help="evaluation CSV (default: categorisation/data/benchmark/eval_data_cc18.csv, "
                                       "or eval_data_offline.csv with --offline)")
    parser.add_argument("--models", nargs="*", default=DEFAULT_MODELS, help="meta-learner weights (names or paths)")
    parser.add_argument("--max-sets", type=int, help="use only the first sets of each task (quick runs)")
    parser.add_argument("--n-codings", type=int, default=1,
                        help="meta-learners: average over this many codings of each set (1: as given)")
    parser.add_argument("--num-train", type=int, default=30, help="leading points of a set used for training")
    parser.add_argument("--output", help="per-(task, set) CSV (default: results_<data stem>.csv beside the data)")
    parser.add_argument("--figure", help="default: figures/benchmark_<data stem>.png")
    parser.add_argument("--device")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    started = time.time()
    data = Path(args.data or FOLDER / ("eval_data_offline.csv" if args.offline else "eval_data_cc18.csv"))
    tasks, sets, x, y = load_sets(data, args.max_sets)
    rows = run_meta_learners(args.models, tasks, sets, x, y, args.num_train, device_or_default(args.device),
                             args.n_codings)
    rows += run_baselines(tasks, sets, x, y, args.num_train, args.seed)
    results = pd.DataFrame(rows, columns=["task_idx", "set_idx", "model", "accuracy", "auc"])

    stem = data.stem.removeprefix("eval_data_")
    output = ensure_parent(args.output or data.parent / f"results_{stem}.csv")
    results.to_csv(output, index=False)
    per_task = results.groupby(["task_idx", "model"], as_index=False)[["accuracy", "auc"]].mean()
    per_task_path = output.with_name(f"{output.stem}_per_task.csv")
    per_task.pivot(index="task_idx", columns="model", values="accuracy").to_csv(per_task_path)
    table = rank_table(per_task)
    write_sidecar(output, started, data=str(data), models=sorted(results.model.unique()), num_train=args.num_train,
                  n_codings=args.n_codings,
                  per_task=str(per_task_path), summary=table.round(4).to_dict(orient="index"))
    figure = Path(args.figure or FIGURES / f"benchmark_{stem}.png")
    plot(per_task, figure)
    print(table.to_string(float_format=lambda v: f"{v:.3f}"))
    print(f"{output} (+ {per_task_path.name}, sidecar); figure {figure}")


if __name__ == "__main__":
    main()
