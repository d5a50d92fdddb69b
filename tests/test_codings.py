"""The coding group, and fits that do not depend on how the experimenter coded the data (DESIGN section 4)."""
import math

import numpy as np
import pandas as pd
import pytest
import torch

from categorisation.experiments import HUMAN, load_badham2017
from categorisation.coding_invariance import recode
from categorisation.fit_humans import fit
from ermi.codings import coded_logits, coding_group, group_size, identity
from ermi.model import MetaLearner, ModelConfig
from ermi.paths import REPO_ROOT, TRAINED_MODELS

SHIPPED_3D = sorted(TRAINED_MODELS.glob("*_categorisation_dim3.pt"))


def test_group_sizes_and_elements():
    assert [group_size(d) for d in (1, 2, 3, 4, 6)] == [4, 16, 96, 768, 92160]
    group = coding_group(3)
    assert len(group) == 96 and group.exact
    elements = {(bool(s), tuple(f.tolist()), tuple(p.tolist())) for s, f, p in zip(group.swap, group.flip, group.perm)}
    assert len(elements) == 96  # all distinct
    assert (False, (False,) * 3, (0, 1, 2)) in elements
    sample = coding_group(6, max_codings=50, seed=3)
    assert len(sample) == 50 and not sample.exact
    assert not sample.swap[0] and not sample.flip[0].any() and sample.perm[0].tolist() == list(range(6))  # identity first
    assert torch.equal(coding_group(6, 50, seed=3).perm, sample.perm)  # seeded


def test_apply_and_decode_by_hand():
    """Coding v shows feature perm[v, j] (flipped if flip[v, perm[v, j]]) in column j; a swapped coding's logit
    is negated on the way back."""
    group = coding_group(3)
    v = next(i for i in range(96) if group.swap[i] and group.flip[i].tolist() == [True, False, False]
             and group.perm[i].tolist() == [2, 0, 1])
    x = torch.tensor([[[0.2, 0.5, 0.9]]])
    y = torch.tensor([[1.0]])
    cx, cy = group.apply(x, y)
    assert cx[v, 0, 0].tolist() == pytest.approx([0.9, 0.8, 0.5]) and cy[v, 0, 0] == 0.0
    logits = torch.zeros(96, 1, 1)
    logits[v] = 2.0
    assert group.decode(logits)[v].item() == -2.0


@pytest.mark.parametrize("weights", SHIPPED_3D, ids=lambda p: p.stem)
def test_recoding_real_participants_leaves_every_nll_unchanged(weights, tmp_path):
    """Two real Badham participants, each shipped 3-D model: a label swap, each single feature flip and a
    feature permutation change no participant's NLL by 0.01 nats (in fact by less than 1e-6)."""
    df = pd.read_csv(HUMAN / "badham2017deficits.csv")
    df = df[df.participant.isin([5, 77])]
    recodings = {"as coded": {}, "label swap": {"swap": True}, "flip 1": {"flip": (1,)}, "flip 2": {"flip": (2,)},
                 "flip 3": {"flip": (3,)}, "permutation": {"order": (3, 1, 2)}}
    nll = {}
    for name, how in recodings.items():
        path = tmp_path / f"{name}.csv"
        recode(df, **how).to_csv(path, index=False)
        rows, provenance = fit("badham2017", str(weights), path)
        nll[name] = np.array([r["nll"] for r in rows])
        n_trials = np.array([r["n_trials"] for r in rows])
        assert provenance["coding_variants_averaged"] == 96
    for name, values in nll.items():
        np.testing.assert_allclose(values, nll["as coded"], atol=1e-6, err_msg=name)
    assert (nll["as coded"] < n_trials * math.log(2)).all()  # and the fits are real ones, better than chance


def test_without_the_average_the_coding_matters():
    """The control: one coding alone (what the fits did before) gives different logits for recoded data."""
    torch.manual_seed(0)
    model = MetaLearner(ModelConfig(num_dims=3, d_model=16, num_layers=2, num_head=2, num_hidden=32)).eval()
    data = load_badham2017(HUMAN / "badham2017deficits.csv")
    data = data.subset(data.participant == 5)
    flipped = 1 - data.x
    alone = coded_logits(model, data.x, data.targets, identity(3))
    alone_flipped = coded_logits(model, flipped, data.targets, identity(3))
    assert (alone - alone_flipped).abs().max() > 1e-3
    group = coding_group(3)
    p = torch.sigmoid(coded_logits(model, data.x, data.targets, group)).mean(0)
    p_flipped = torch.sigmoid(coded_logits(model, flipped, data.targets, group)).mean(0)
    assert (p - p_flipped).abs().max() < 1e-6


def test_length_bucketing_gives_the_padded_result():
    """Sequences of different lengths batched by length equal each sequence run alone; padding stays 0."""
    torch.manual_seed(1)
    model = MetaLearner(ModelConfig(num_dims=3, d_model=16, num_layers=2, num_head=2, num_hidden=32)).eval()
    x, y = torch.rand(5, 12, 3).round(), (torch.rand(5, 12) < 0.5).float()
    lengths = torch.tensor([12, 4, 9, 12, 1])
    group = coding_group(3)
    together = coded_logits(model, x, y, group, lengths=lengths, max_tokens=2000)
    for s, n in enumerate(lengths.tolist()):
        alone = coded_logits(model, x[s:s + 1, :n], y[s:s + 1, :n], group)
        torch.testing.assert_close(together[:, s, :n], alone[:, 0], atol=1e-5, rtol=0)
        assert (together[:, s, n:] == 0).all()


def test_coding_invariance_report(tmp_path):
    """The report script: with the group average no recoding moves an NLL; as coded, every recoding does."""
    from categorisation.coding_invariance import main as report_main
    from ermi.model import save_weights

    torch.manual_seed(0)
    weights = tmp_path / "tiny_dim3.pt"
    save_weights(weights, MetaLearner(ModelConfig(num_dims=3, d_model=16, num_layers=2, num_head=2, num_hidden=32)))
    report_main(["--model-names", str(weights), "--data", str(REPO_ROOT / "tests/fixtures/badham2017_first_participants.csv"),
                 "--output", str(tmp_path / "invariance.csv")])
    table = pd.read_csv(tmp_path / "invariance.csv")
    assert len(table) == 8
    assert (table[table.codings == 96].max_abs_nll_change < 1e-6).all()
    assert (table[table.codings == 1].max_abs_nll_change > 1e-3).all()
