"""Build the evaluation sets of the real-world benchmark and cache them as one CSV.

Every qualifying dataset (binary, < 100 features, no missing values, >= 50 examples per class) gives 20 sets of
50 + 50 points drawn without replacement. Points 0-29 of a set are its training points (15 per class), points
30-99 its test points (35 per class), each part in random order. Min-max scaling and the choice of the 4 features
(ANOVA F) are fitted on the 30 training points of each set only; the reference fitted both on the whole dataset,
labels included, which leaks test labels into the inputs. Test points keep the training scale, so they may fall
slightly outside [0, 1].

    python categorisation/benchmark/save_eval_data.py              # OpenML-CC18, needs `pip install openml` + network
    python categorisation/benchmark/save_eval_data.py --offline    # datasets bundled with scikit-learn
"""
import argparse
import json
import sys
import time
import warnings

import numpy as np
import pandas as pd
from sklearn import datasets as skdata
from sklearn.feature_selection import f_classif
from tqdm import tqdm

from ermi.paths import domain_dir, ensure_parent, write_sidecar

FOLDER = domain_dir("categorisation") / "data" / "benchmark"
DEFAULT_OUTPUT = {False: FOLDER / "eval_data_cc18.csv", True: FOLDER / "eval_data_offline.csv"}
MAX_FEATURES, MIN_PER_CLASS = 100, 50


def qualifies(X, y):
    """None if the dataset can be used, else why not."""
    classes, counts = np.unique(y, return_counts=True)
    if len(classes) != 2:
        return f"{len(classes)} classes"
    if X.shape[1] >= MAX_FEATURES:
        return f"{X.shape[1]} features"
    if np.isnan(X).any():
        return "missing values"
    if counts.min() < MIN_PER_CLASS:
        return f"only {counts.min()} examples of one class"
    return None


def fit_scaling(x_train):
    """Per-feature min and span from the training points; a feature constant there is mapped to 0.5."""
    lo, hi = x_train.min(axis=0), x_train.max(axis=0)
    return lo, hi - lo


def apply_scaling(x, lo, span):
    safe = np.where(span > 0, span, 1.0)
    return np.where(span > 0, (x - lo) / safe, 0.5)


def select_features(x_train, y_train, k):
    """Indices (ascending) of the k features with the largest ANOVA F on the training points; constant -> last."""
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        warnings.simplefilter("ignore", UserWarning)  # "features are constant": expected with 30 points
        scores, _ = f_classif(x_train, y_train)
    scores = np.nan_to_num(scores, nan=-np.inf)
    return np.sort(np.argsort(-scores, kind="stable")[:k])


def draw_sets(y, num_sets=20, per_class=50, num_train=30, seed=0):
    """Row indices [S, 2 * per_class]: per_class rows of each class without replacement; the first num_train
    (half of each class) are the training points, the rest the test points, each part shuffled."""
    if num_train % 2 or num_train >= 2 * per_class:
        raise ValueError(f"num_train={num_train} must be even and below {2 * per_class}")
    rng = np.random.default_rng(seed)
    pools = [np.flatnonzero(y == c) for c in (0, 1)]
    half = num_train // 2
    sets = []
    for _ in range(num_sets):
        picks = [rng.choice(pool, per_class, replace=False) for pool in pools]
        train = rng.permutation(np.concatenate([p[:half] for p in picks]))
        test = rng.permutation(np.concatenate([p[half:] for p in picks]))
        sets.append(np.concatenate([train, test]))
    return np.stack(sets)


def prepare_set(X, y, rows, num_train=30, k=4):
    """(inputs [P, k], targets [P], features [k]) of one set; scaling and features see training rows only."""
    if X.shape[1] < k:
        raise ValueError(f"the dataset has {X.shape[1]} features, fewer than k={k}")
    train = rows[:num_train]
    lo, span = fit_scaling(X[train])
    features = select_features(apply_scaling(X[train], lo, span), y[train], k)
    return apply_scaling(X[rows], lo, span)[:, features], y[rows], features


def make_sets(X, y, num_sets=20, per_class=50, num_train=30, k=4, seed=0):
    """(inputs [S, P, k], targets [S, P], features [S, k]) with P = 2 * per_class; the first num_train = train."""
    prepared = [prepare_set(X, y, rows, num_train, k) for rows in draw_sets(y, num_sets, per_class, num_train, seed)]
    return tuple(np.stack(part) for part in zip(*prepared))


def offline_datasets():
    """(task id, name, X, y) from scikit-learn's bundled data. Only breast cancer is itself a CC18 task (9946,
    wdbc); the others are binarised multi-class sets, given negative ids so they never match a published id."""
    cancer = skdata.load_breast_cancer()
    yield 9946, "breast cancer (CC18 9946)", cancer.data, cancer.target
    iris = skdata.load_iris()
    keep = iris.target > 0
    yield -1, "iris: versicolor vs virginica", iris.data[keep], iris.target[keep] - 1
    wine = skdata.load_wine()
    keep = wine.target < 2
    yield -2, "wine: cultivar 0 vs 1", wine.data[keep], wine.target[keep]
    digits = skdata.load_digits()
    yield -3, "digits: odd vs even", digits.data, digits.target % 2


def openml_datasets():
    """(task id, name, X, y) for the binary OpenML-CC18 tasks; exits with one line when openml or network fail."""
    try:
        import openml
    except ImportError:
        sys.exit("error: the `openml` package is not installed (pip install openml); use --offline for bundled data")
    try:
        task_ids = openml.study.get_suite("OpenML-CC18").tasks
    except Exception as err:  # the client raises many types (requests, OpenMLServerError, ...) for one cause
        sys.exit(f"error: cannot reach OpenML ({type(err).__name__}); use --offline for bundled data")
    for task_id in tqdm(task_ids, desc="OpenML-CC18"):
        try:
            task = openml.tasks.get_task(task_id)
            dataset = openml.datasets.get_dataset(task.dataset_id, download_data=False)
            # Qualities (NumberOfFeatures counts the target) spare downloading the large multi-class sets.
            q = dataset.qualities or {}
            if (q.get("NumberOfClasses") != 2 or q.get("NumberOfFeatures", 0) > MAX_FEATURES
                    or q.get("NumberOfMissingValues")):
                continue
            X, y, _, _ = dataset.get_data(target=task.target_name)
        except Exception as err:
            print(f"note: skipping OpenML task {task_id}: download failed ({type(err).__name__}: {err})")
            continue
        # Categorical columns become their integer codes, so every feature is numeric.
        X = X.apply(lambda col: col.cat.codes if col.dtype.name == "category" else col).to_numpy(float)
        y = pd.factorize(y, sort=True)[0]
        yield task_id, dataset.name, X, y


def build(source, num_sets, per_class, num_train, k, seed):
    """Long table: one row per point (input, target, point_idx, set_idx, task_idx, task_name, features)."""
    rows, skipped = [], {}
    for task_id, name, X, y in source:
        reason = qualifies(np.asarray(X, float), np.asarray(y))
        if reason:
            skipped[task_id] = reason
            continue
        inputs, targets, chosen = make_sets(np.asarray(X, float), np.asarray(y), num_sets, per_class, num_train,
                                            k, seed + abs(int(task_id)))
        for s in range(num_sets):
            features = json.dumps(chosen[s].tolist())
            for p in range(inputs.shape[1]):
                point = json.dumps([round(float(v), 6) for v in inputs[s, p]])
                rows.append({"input": point, "target": int(targets[s, p]), "point_idx": p, "set_idx": s,
                             "task_idx": task_id, "task_name": name, "features": features})
    return pd.DataFrame(rows), skipped


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--offline", action="store_true", help="use datasets bundled with scikit-learn")
    parser.add_argument("--output", help="CSV path (default: categorisation/data/benchmark/eval_data_cc18.csv, "
                                         "or eval_data_offline.csv with --offline)")
    parser.add_argument("--num-sets", type=int, default=20)
    parser.add_argument("--per-class", type=int, default=50)
    parser.add_argument("--num-train", type=int, default=30, help="leading points of a set used for training")
    parser.add_argument("--num-features", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    started = time.time()
    source = offline_datasets() if args.offline else openml_datasets()
    table, skipped = build(source, args.num_sets, args.per_class, args.num_train, args.num_features, args.seed)
    if table.empty:
        sys.exit(f"error: no dataset qualified ({skipped})")
    output = ensure_parent(args.output or DEFAULT_OUTPUT[args.offline])
    table.to_csv(output, index=False)
    tasks = table.drop_duplicates("task_idx")[["task_idx", "task_name"]]
    write_sidecar(output, started, source="scikit-learn (bundled)" if args.offline else "OpenML-CC18",
                  tasks=dict(zip(tasks.task_idx.tolist(), tasks.task_name)), skipped=skipped, num_sets=args.num_sets,
                  per_class=args.per_class, num_train=args.num_train, num_features=args.num_features, seed=args.seed)
    print(f"{output}: {len(tasks)} task(s) x {args.num_sets} sets x {2 * args.per_class} points"
          + (f"; skipped {skipped}" if skipped else ""))


if __name__ == "__main__":
    main()
