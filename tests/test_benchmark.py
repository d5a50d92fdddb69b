"""Real-world benchmark: evaluation-set builder, the in-context scikit-learn classifier, baselines and the two CLIs."""
import importlib.util
import json
import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.datasets import load_breast_cancer
from sklearn.feature_selection import SelectKBest, f_classif
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline

from categorisation.benchmark.eval import run_baselines
from categorisation.benchmark.save_eval_data import (build, draw_sets, make_sets, offline_datasets, openml_datasets,
                                                      prepare_set)
from ermi.classifier import InContextClassifier
from ermi.episodes import make_tokens
from ermi.model import MetaLearner, ModelConfig, save_weights
from ermi.paths import REPO_ROOT

TINY = ModelConfig(num_dims=4, d_model=16, num_layers=2, num_head=2, num_hidden=32)


def run(*args):
    return subprocess.run([sys.executable, *map(str, args)], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)


def test_sets_have_shape_balance_and_training_scale():
    cancer = load_breast_cancer()
    inputs, targets, features = make_sets(cancer.data, cancer.target, num_sets=5)
    assert inputs.shape == (5, 100, 4) and targets.shape == (5, 100) and features.shape == (5, 4)
    assert (targets.sum(axis=1) == 50).all()  # 50 + 50 per set
    assert (targets[:, :30].sum(axis=1) == 15).all()  # training points stratified: 15 + 15
    train = inputs[:, :30]
    np.testing.assert_allclose(train.min(axis=1), 0.0, atol=1e-12)  # min-max fitted on the training points
    np.testing.assert_allclose(train.max(axis=1), 1.0, atol=1e-12)
    rows = draw_sets(cancer.target, num_sets=5)
    assert all(len(set(r)) == 100 for r in rows)  # drawn without replacement


def test_features_are_chosen_on_training_points_only():
    """Relabelling the test points leaves features and inputs unchanged; the reference's whole-set selection
    (SelectKBest on all 100 points) does change, so this dataset would expose a leak."""
    rng = np.random.default_rng(1)
    X = rng.normal(size=(400, 12))
    X[:, 1:4] = X[:, :1] + 0.3 * rng.normal(size=(400, 3))  # features 0-3 carry the true labels
    y = (X[:, 0] > 0).astype(int)
    rows = draw_sets(y, num_sets=1)[0]
    relabelled = y.copy()
    test = rows[30:]
    relabelled[test] = (X[test, 7] > 0).astype(int)  # make feature 7 decisive on the test points only
    inputs, _, features = prepare_set(X, y, rows)
    inputs2, targets2, features2 = prepare_set(X, relabelled, rows)
    np.testing.assert_array_equal(features, features2)
    np.testing.assert_array_equal(inputs, inputs2)
    assert (targets2[30:] == relabelled[test]).all()
    leaky = SelectKBest(f_classif, k=4).fit(X[rows], relabelled[rows]).get_support(indices=True)
    assert 7 in leaky and 7 not in features


def test_offline_build_covers_the_bundled_datasets():
    table, skipped = build(offline_datasets(), num_sets=2, per_class=50, num_train=30, k=4, seed=0)
    assert not skipped
    assert sorted(table.task_idx.unique()) == [-3, -2, -1, 9946]
    assert len(table) == 4 * 2 * 100
    assert table.groupby(["task_idx", "set_idx"]).target.sum().eq(50).all()
    assert all(len(json.loads(v)) == 4 for v in table.input)


def test_in_context_classifier_equals_one_query_at_a_time(tmp_path):
    """One batched pass (and passes of 17 queries) give each test point exactly what the network gives it as the
    last trial of its own sequence; the estimator works in a Pipeline and in cross_val_score."""
    torch.manual_seed(0)
    model = MetaLearner(TINY).eval()
    weights = tmp_path / "tiny_dim4.pt"
    save_weights(weights, model)
    rng = np.random.default_rng(0)
    x_train, x_test = rng.random((30, 4)), rng.random((70, 4))
    x_train[0], x_train[1] = 0.0, 1.0  # training points span [0, 1], so the estimator's scaling is the identity
    y_train = np.array(["a", "b"] * 15)
    batched = InContextClassifier(str(weights)).fit(x_train, y_train)
    in_chunks = InContextClassifier(str(weights), max_queries=17).fit(x_train, y_train)
    slow = np.zeros(70)
    with torch.no_grad():
        for q in range(70):
            x = torch.tensor(np.concatenate([x_train, x_test[q:q + 1]]), dtype=torch.float32)[None]
            y = torch.tensor(np.r_[y_train == "b", 0.0], dtype=torch.float32)[None]  # the query's label never enters
            slow[q] = torch.sigmoid(model(make_tokens(x, y))[0, -1]).item()
    np.testing.assert_allclose(batched.predict_proba(x_test)[:, 1], slow, atol=1e-5)
    np.testing.assert_allclose(in_chunks.predict_proba(x_test)[:, 1], slow, atol=1e-5)
    assert slow.std() > 0  # the queries are really distinguished
    assert set(batched.predict(x_test)) <= {"a", "b"}
    X, y = load_breast_cancer(return_X_y=True)
    pipe = make_pipeline(SelectKBest(f_classif, k=4), InContextClassifier(str(weights)))
    assert cross_val_score(pipe, X[:200], y[:200], cv=3).shape == (3,)
    with pytest.raises(ValueError, match="takes 4 features, X has 5"):
        InContextClassifier(str(weights)).fit(rng.random((10, 5)), [0, 1] * 5)


def test_in_context_classifier_is_coding_invariant_with_the_whole_group(tmp_path):
    """Averaged over the whole coding group (768 codings at 4-D, when n_codings covers it), relabelling the
    classes, reversing a feature and reordering the features leave every prediction unchanged."""
    torch.manual_seed(1)
    weights = tmp_path / "tiny_dim4.pt"
    save_weights(weights, MetaLearner(TINY).eval())
    rng = np.random.default_rng(1)
    x_train, x_test, y_train = rng.random((20, 4)), rng.random((9, 4)), rng.integers(0, 2, 20)
    clf = InContextClassifier(str(weights), n_codings=768)
    p = clf.fit(x_train, y_train).predict_proba(x_test)[:, 1]

    def recode(x):
        return np.c_[x[:, 2], 1 - x[:, 0], x[:, 3], x[:, 1]]

    p_recoded = clf.fit(recode(x_train), 1 - y_train).predict_proba(recode(x_test))[:, 0]
    np.testing.assert_allclose(p, p_recoded, atol=1e-6)
    plain = InContextClassifier(str(weights)).fit(x_train, y_train).predict_proba(x_test)[:, 1]
    assert np.abs(plain - InContextClassifier(str(weights)).fit(recode(x_train), 1 - y_train)
                  .predict_proba(recode(x_test))[:, 0]).max() > 1e-3  # without the average the coding matters


def test_baselines_beat_chance_on_a_separable_task():
    rng = np.random.default_rng(0)
    y = np.stack([rng.permutation(np.repeat([0.0, 1.0], 50)) for _ in range(3)])
    x = rng.random((3, 100, 4))
    x[..., 0] = 0.6 * y + 0.4 * x[..., 0]  # a margin of 0.2 on feature 0
    rows = pd.DataFrame(run_baselines(np.zeros(3), np.arange(3), x, y, num_train=30),
                        columns=["task_idx", "set_idx", "model", "accuracy", "auc"])
    means = rows.groupby("model")[["accuracy", "auc"]].mean()
    assert len(means) >= 4
    assert (means.accuracy > 0.9).all() and (means.auc > 0.95).all(), means


def test_cli_end_to_end_offline(tmp_path):
    data = tmp_path / "eval_data_offline.csv"
    built = run("categorisation/benchmark/save_eval_data.py", "--offline", "--num-sets", "2", "--output", data)
    assert built.returncode == 0, built.stderr[-2000:]
    weights = tmp_path / "tiny_dim4.pt"
    save_weights(weights, MetaLearner(TINY))
    out, figure = tmp_path / "results.csv", tmp_path / "benchmark.png"
    result = run("categorisation/benchmark/eval.py", "--data", data, "--models", weights, "no_such_model_dim4",
                 "--output", out, "--figure", figure)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "skipping no_such_model_dim4" in result.stdout
    results = pd.read_csv(out)
    assert set(results.model) == {"tiny_dim4", "Logistic regression", "SVM", "Random forest", "Gradient boosting"}
    assert len(results) == 4 * 2 * 5 and results.accuracy.between(0, 1).all()
    assert json.loads(out.with_name("results.csv.json").read_text())["num_train"] == 30
    per_task = pd.read_csv(tmp_path / "results_per_task.csv", index_col=0)
    assert sorted(per_task.index) == [-3, -2, -1, 9946]
    assert figure.stat().st_size > 0


@pytest.mark.skipif(importlib.util.find_spec("openml") is not None, reason="openml is installed here")
def test_without_openml_one_line_points_to_offline(tmp_path):
    result = run("categorisation/benchmark/save_eval_data.py", "--output", tmp_path / "x.csv")
    assert result.returncode != 0
    assert result.stderr.strip().count("\n") == 0 and "--offline" in result.stderr


def stub_openml(get_suite):
    """A stand-in for the openml client: task 11 is binary with a categorical column, task 12 has ten classes."""
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=120), "b": pd.Categorical(rng.choice(["x", "y", "z"], 120)),
                      "c": rng.random(120), "d": rng.random(120)})
    y = pd.Series(np.repeat(["pos", "neg"], 60))
    qualities = {1: {"NumberOfClasses": 2.0, "NumberOfFeatures": 5.0, "NumberOfMissingValues": 0.0},
                 2: {"NumberOfClasses": 10.0, "NumberOfFeatures": 785.0, "NumberOfMissingValues": 0.0}}

    def get_dataset(did, download_data):
        def get_data(target):
            assert did == 1, "a dataset that fails the qualities must not be downloaded"
            return X, y, None, None
        return SimpleNamespace(name=f"d{did}", qualities=qualities[did], get_data=get_data)

    def get_task(task_id):
        return SimpleNamespace(dataset_id=task_id - 10, target_name="y")

    return SimpleNamespace(study=SimpleNamespace(get_suite=get_suite), tasks=SimpleNamespace(get_task=get_task),
                           datasets=SimpleNamespace(get_dataset=get_dataset))


def test_openml_path_with_a_stub_client(monkeypatch):
    monkeypatch.setitem(sys.modules, "openml", stub_openml(lambda name: SimpleNamespace(tasks=[11, 12])))
    found = list(openml_datasets())
    assert [f[0] for f in found] == [11]
    X, y = found[0][2], found[0][3]
    assert X.dtype == float and set(X[:, 1]) == {0.0, 1.0, 2.0} and sorted(np.bincount(y)) == [60, 60]
    table, skipped = build(found, num_sets=2, per_class=50, num_train=30, k=4, seed=0)
    assert not skipped and len(table) == 200


def test_unreachable_openml_exits_with_one_line(monkeypatch):
    def offline(name):
        raise ConnectionError("no route to host")
    monkeypatch.setitem(sys.modules, "openml", stub_openml(offline))
    with pytest.raises(SystemExit, match="cannot reach OpenML .*--offline"):
        list(openml_datasets())
