"""Your own experiment: the tidy format, its loader's one-line errors, the Python API and fit_humans.py --data."""
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import ermi
from categorisation.experiments import badham_tidy
from categorisation.fit_humans import fit as fit_badham
from decisionmaking.experiments import binz_tidy
from decisionmaking.fit_humans import fit_experiment
from ermi.paths import REPO_ROOT
from ermi.tidy import TidyError

BADHAM = REPO_ROOT / "tests/fixtures/badham2017_first_participants.csv"
EXAMPLE = REPO_ROOT / "examples/made_up_experiment.csv"


def test_a_made_up_experiment_recovers_its_betas():
    """The example's responses come from ERMI-3D at betas 0.3..2.0 (p01..p08): fitted back in order, and ERMI
    wins the comparison."""
    data = ermi.load(EXAMPLE)
    fits = ermi.fit("ermi_categorisation_dim3", data)
    true_beta = np.linspace(0.3, 2.0, 8)
    assert fits.participant.tolist() == [f"p{i:02d}" for i in range(1, 9)]
    assert np.corrcoef(fits.beta, true_beta)[0, 1] > 0.9
    assert np.all(np.abs(fits.beta - true_beta) < 0.4 * true_beta + 0.2), fits.beta.tolist()
    summary = ermi.compare([fits, ermi.fit("gcm", data, restarts=2)])
    assert summary.model.iloc[0] == "ermi" and summary.wins.sum() == 8


def test_badham_in_the_tidy_format_gives_exactly_the_badham_fits(tmp_path):
    path = tmp_path / "badham_tidy.csv"
    badham_tidy(BADHAM).to_csv(path, index=False)
    tidy = ermi.fit("pfn_categorisation_dim3", ermi.load(path))
    rows, _ = fit_badham("badham2017", "pfn_categorisation_dim3", BADHAM)
    np.testing.assert_allclose(tidy.nll, [r["nll"] for r in rows], rtol=0, atol=1e-9)
    np.testing.assert_allclose(tidy.beta, [r["beta"] for r in rows], rtol=0, atol=1e-9)
    gcm = ermi.fit("gcm", ermi.load(path), restarts=2)
    assert (gcm.k == 4).all() and len(gcm) == 4
    # the order of the file's rows does not matter: trials are ordered by participant, task and trial
    shuffled = tmp_path / "shuffled.csv"
    pd.read_csv(path).sample(frac=1.0, random_state=0).to_csv(shuffled, index=False)
    again = ermi.fit("pfn_categorisation_dim3", ermi.load(shuffled))
    np.testing.assert_allclose(again.nll, tidy.nll, rtol=0, atol=1e-9)


@pytest.mark.parametrize("number", [2, 3])  # experiment 3: two of the four cue columns are absent (all 0)
def test_binz_in_the_tidy_format_gives_exactly_the_binz_fits(tmp_path, number):
    path = tmp_path / f"binz{number}.csv"
    binz_tidy(number).to_csv(path, index=False)
    data = ermi.load(path, "decisionmaking")
    direct = fit_experiment(number, {}, baselines=["ideal_observer", "best_cue", "strategy_selection"])
    for model in ("ideal_observer", "best_cue", "strategy_selection"):
        np.testing.assert_allclose(ermi.fit(model, data).nll, [r["nll"] for r in direct[model]], rtol=0, atol=1e-9)


def write(tmp_path, rows, columns="participant,task,trial,x1,x2,x3,correct,response"):
    path = tmp_path / "exp.csv"
    path.write_text(columns + "\n" + "\n".join(rows) + "\n")
    return path


@pytest.mark.parametrize("rows, problem", [
    (["1,1,1,0.1,0.2,0.3,a,a", "1,1,2,0.4,0.5,0.6,b,c"],
     "3: response 'c' is a third label in participant 1's task 1 (it has 'a', 'b')"),
    (["1,1,1,0.1,0.2,0.3,a,b", "1,1,2,0.4,0.5,0.6,a,b", "1,1,3,0.4,0.5,0.6,c,b"],
     "4: correct 'c' is a third label in participant 1's task 1 (it has 'a', 'b')"),
    (["1,1,1,0.1,0.2,0.3,a,a", "1,1,2,0.4,0.5,0.6,b,"], "3: response is missing"),
    (["1,1,1,0.1,big,0.3,a,a"], "2: x2 'big' is not a number"),
    (["1,1,1,0.1,0.2,0.3,a,a", "1,1,1,0.4,0.5,0.6,b,b"], "3: trial 1 repeats a trial of the same participant and task"),
])
def test_malformed_rows_give_one_line(tmp_path, rows, problem):
    path = write(tmp_path, rows)
    with pytest.raises(TidyError) as err:
        ermi.load(path)
    assert str(err.value) == f"{path}:{problem}"


def test_wrong_feature_count_and_columns(tmp_path):
    four = write(tmp_path, ["1,1,1,0.1,0.2,0.3,0.4,a,b"], "participant,task,trial,x1,x2,x3,x4,correct,response")
    with pytest.raises(TidyError, match=r"exp.csv:1: the data have 4 stimulus column\(s\) \(x1..x4\), "
                                        r"ermi_categorisation_dim3.pt takes 3"):
        ermi.fit("ermi_categorisation_dim3", ermi.load(four))
    gap = write(tmp_path, ["1,1,1,0.1,0.3,a,b"], "participant,task,trial,x1,x3,correct,response")
    with pytest.raises(TidyError, match="exp.csv:1: stimulus columns must be x1..x3; missing x2"):
        ermi.load(gap)
    bad = write(tmp_path, ["2,1,1,0.1,0.2,0.3,A,A", "1,1,1,0.1,0.2,0.3,A,C"])  # the bad row sorts first
    with pytest.raises(TidyError, match="exp.csv:3: response 'C' is not A, B, 1 or 0"):
        ermi.load(bad, "decisionmaking")


def test_fit_humans_cli_on_a_tidy_file(tmp_path):
    """One command: every shipped 3-D meta-learner and baseline, fits + comparison; errors in one line."""
    result = subprocess.run([sys.executable, "categorisation/fit_humans.py", "--data", EXAMPLE, "--baselines", "gcm",
                             "--restarts", "1", "--output-dir", tmp_path], cwd=REPO_ROOT, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    summary = pd.read_csv(tmp_path / "made_up_experiment_comparison.csv")
    assert set(summary.model) == {"ermi", "mi", "pfn", "gcm"}
    bad = write(tmp_path, ["1,1,1,0.1,0.2,0.3,a,a", "1,1,2,0.4,0.5,0.6,b,c"])
    result = subprocess.run([sys.executable, "categorisation/fit_humans.py", "--data", bad], cwd=REPO_ROOT,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and "response 'c'" in result.stderr


def test_function_learning_fits_a_noise_level_per_participant(tmp_path):
    """Two participants predict a linear function (outputs 10-310), one with noise sd 2, one with sd 60: the fitted
    sigma (which also absorbs the learner's own early errors) tracks it, and the CLI writes the comparison."""
    rng = np.random.default_rng(0)
    rows = []
    for pid, sd in (("calm", 2.0), ("noisy", 60.0)):
        for task in (1, 2):
            x = rng.uniform(0, 100, 20)
            for t, xi in enumerate(x):
                y = 3 * xi + 10
                rows.append({"participant": pid, "task": task, "trial": t, "x1": xi, "correct": y,
                             "response": y + rng.normal(0, sd)})
    path = tmp_path / "fl.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    fits = ermi.fit("Bayesian linear regression", ermi.load(path, "functionlearning")).set_index("participant")
    assert fits.sigma["noisy"] > 2 * fits.sigma["calm"] and (fits.k == 1).all() and fits.pseudo_r2.isna().all()
    result = subprocess.run([sys.executable, "functionlearning/fit_humans.py", "--data", path, "--baselines", "EXAM",
                             "GP (RBF + linear)", "--output-dir", tmp_path], cwd=REPO_ROOT, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    summary = pd.read_csv(tmp_path / "fl_comparison.csv")
    assert {"EXAM", "GP (RBF + linear)", "ermi", "mi"} <= set(summary.model)
