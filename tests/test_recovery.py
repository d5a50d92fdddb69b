"""Recovery: known parameters come back, the generating model wins on clear cases, meta-learners plug in."""
import numpy as np
import pytest

from categorisation.baselines.gcm import GCM
from categorisation.baselines.rulex import Rulex
from categorisation.experiments import load_badham2017
from categorisation.recovery import MetaLearner, main as recovery_main, run
from ermi.model import MetaLearner as Net, ModelConfig, save_weights
from ermi.paths import REPO_ROOT
from ermi.recovery import confusion, parameter_recovery


@pytest.fixture(scope="module")
def records():
    return run([GCM(), Rulex()], load_badham2017(REPO_ROOT / "tests/fixtures/badham2017_first_participants.csv"),
               participants=16, restarts=2, seed=0)


def test_parameters_are_recovered(records):
    params = parameter_recovery(records).set_index(["model", "parameter"]).r
    assert params["rulex", "g"] > 0.9
    # attention weights are well identified; c is not (beyond c ~ 5 binary stimuli barely change the predictions)
    assert np.mean([params["gcm", w] for w in ("w1", "w2", "w3")]) > 0.75


def test_generating_model_wins(records):
    conf = confusion(records)
    assert conf.loc["gcm", "gcm"] >= 0.75
    assert conf.loc["rulex", "rulex"] >= 0.9
    assert conf.to_numpy().sum(1) == pytest.approx([1.0, 1.0])


def test_cli_with_a_meta_learner(tmp_path):
    weights = tmp_path / "toy_net.pt"
    save_weights(weights, Net(ModelConfig(num_dims=3, d_model=16, num_layers=1, num_head=2, num_hidden=32)))
    figure = tmp_path / "recovery.png"
    recovery_main(["--models", "rulex", "--weights", str(weights), "--participants", "6", "--restarts", "1",
                   "--output-dir", str(tmp_path), "--figure", str(figure)])
    conf = np.loadtxt(tmp_path / "badham2017_model_confusion.csv", delimiter=",", skiprows=1, usecols=(1, 2))
    assert conf.shape == (2, 2) and conf.sum(1) == pytest.approx([1, 1])
    assert figure.exists()
    assert MetaLearner(weights).name == "toy"
