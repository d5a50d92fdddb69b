import math

import pytest
import torch

from ermi.episodes import (NEUTRAL_FEEDBACK, CorpusError, CorpusSampler, LinearPrior, MLPPrior, PriorSampler, RMCPrior,
                           load_corpus, make_tokens, randomise, scale_per_task)
from ermi.model import MetaLearner, ModelConfig, load_model, save_weights
from ermi.paths import REPO_ROOT

CORPUS = REPO_ROOT / "tests/fixtures/llama-3_dim3_first_tasks.csv"


def test_paper_config_parameter_count():
    model = MetaLearner(ModelConfig(num_dims=3))
    # 6 blocks x (qkv 64*192+192, proj 64*64+64, ff 64*256+256+256*64+64, 2 LayerNorms 4*64) + embed + final LN + head
    block = (64 * 192 + 192) + (64 * 64 + 64) + (64 * 256 + 256 + 256 * 64 + 64) + 4 * 64
    assert sum(p.numel() for p in model.parameters()) == 6 * block + (4 * 64 + 64) + 2 * 64 + 65


def test_model_is_causal_and_length_free():
    torch.manual_seed(0)
    model = MetaLearner(ModelConfig(num_dims=2, d_model=16, num_layers=2, num_head=2, num_hidden=32)).eval()
    tokens = torch.rand(3, 500, 3)  # longer than any training length: no positional table to outgrow
    changed = tokens.clone()
    changed[:, 300:] = torch.rand(3, 200, 3)
    out, out_changed = model(tokens), model(changed)
    assert out.shape == (3, 500)
    assert torch.allclose(out[:, :300], out_changed[:, :300], atol=1e-6)
    assert not torch.allclose(out[:, 300:], out_changed[:, 300:])


def test_weights_roundtrip_and_clear_error(tmp_path):
    model = MetaLearner(ModelConfig(num_dims=2, d_model=16, num_layers=1, num_head=2, num_hidden=32)).eval()
    save_weights(tmp_path / "m.pt", model)
    tokens = torch.rand(2, 7, 3)
    assert torch.equal(load_model(tmp_path / "m.pt")(tokens), model(tokens))
    torch.save({"junk": 1}, tmp_path / "bad.pt")
    with pytest.raises(ValueError, match="bad.pt: not an ERMI weight file"):
        load_model(tmp_path / "bad.pt")


def test_tokens_carry_previous_label_and_neutral_start():
    x = torch.tensor([[[0.1], [0.2], [0.3]]])
    y = torch.tensor([[1.0, 0.0, 1.0]])
    assert make_tokens(x, y)[0, :, 1].tolist() == [NEUTRAL_FEEDBACK, 1.0, 0.0]


def test_load_real_corpus_rows():
    tasks = load_corpus(CORPUS, num_dims=3)
    assert len(tasks) == 2 and tasks.num_dims == 3
    assert tasks.lengths.tolist() == [100, 100]
    assert float(tasks.x.min()) == 0.0 and float(tasks.x.max()) == 1.0
    # labels coded in order of first appearance: the first row's label is 0; both labels occur
    assert tasks.y[:, 0].tolist() == [0.0, 0.0]
    assert 0 < float(tasks.y.mean()) < 1
    with pytest.raises(CorpusError, match=r"no usable task \({'more than max_steps=50 trials': 2}\)"):
        load_corpus(CORPUS, num_dims=3, max_steps=50)


def test_per_feature_scaling_and_constant_feature():
    x = torch.tensor([[[0.0, 5.0], [10.0, 5.0], [5.0, 5.0], [99.0, 99.0]]])
    scaled = scale_per_task(x, torch.tensor([3]))
    assert scaled[0, :3].tolist() == [[0.0, 0.5], [1.0, 0.5], [0.5, 0.5]]
    assert scaled[0, 3].tolist() == [0.0, 0.0]  # padding stays zero


@pytest.mark.parametrize("content, problem", [
    ("task_id,trial_id,input\n0,0,\"[1, 2]\"\n", ":1: missing column(s) target"),
    ("task_id,trial_id,input,target\n0,0,\"[1, 2]\",a\n0,1,\"[1, oops]\",b\n", ":3: input '[1, oops]' is not a JSON list"),
    ("task_id,trial_id,input,target\n0,0,\"[1, 2]\",a\n0,1,\"[1, 2, 3]\",b\n", ":3: input has 3 values, expected 2"),
    ("task_id,trial_id,input,target\nx,0,\"[1, 2]\",a\n", ":2: task_id 'x' is not an integer"),
])
def test_malformed_corpus_errors_name_file_and_row(tmp_path, content, problem):
    path = tmp_path / "corpus.csv"
    path.write_text(content)
    with pytest.raises(CorpusError) as err:
        load_corpus(path)
    message = str(err.value)
    assert message.startswith(str(path)) and problem in message and "\n" not in message


def test_tasks_without_two_labels_are_dropped_and_counted(tmp_path):
    path = tmp_path / "corpus.csv"
    path.write_text("task_id,trial_id,input,target\n0,0,\"[1]\",a\n0,1,\"[2]\",b\n1,0,\"[1]\",a\n1,1,\"[3]\",a\n"
                    "2,0,\"[1]\",a\n2,1,\"[2]\",b\n2,2,\"[3]\",c\n")
    tasks = load_corpus(path)
    assert tasks.task_ids == [0]
    assert tasks.dropped == {"1 distinct label(s) instead of 2": 1, "3 distinct label(s) instead of 2": 1}
    with pytest.raises(CorpusError, match="no usable task"):
        load_corpus(path, max_steps=1)


def test_randomisation_is_per_task():
    g = torch.Generator().manual_seed(0)
    B, T, D = 256, 6, 3
    x = torch.arange(D, dtype=torch.float32).expand(B, T, D).clone()
    y = torch.zeros(B, T)
    lengths = torch.full((B,), 4)
    x2, y2, _ = randomise(x, y, lengths, g, shuffle_features=True, flip_labels=True)
    perms = {tuple(row[0].tolist()) for row in x2}
    assert len(perms) == 6  # every permutation of 3 features occurs across tasks
    flipped = y2[:, 0]
    assert 0.35 < float(flipped.mean()) < 0.65  # per-task coin, not one flip for the batch
    assert float(y2[:, 4:].abs().sum()) == 0  # padding untouched
    order_x = torch.arange(T, dtype=torch.float32)[None, :, None].expand(B, T, 1).clone()
    shuffled, _, _ = randomise(order_x, y, lengths, g, shuffle_trials=True)
    assert all(sorted(s[:4, 0].tolist()) == [0, 1, 2, 3] for s in shuffled)  # real trials stay in front
    assert float(shuffled[:, 4:].sum()) == (4 + 5) * B  # padding rows (4, 5) stay at the end
    resampled, _, new_lengths = randomise(order_x, y, lengths, g, shuffle_trials=True, resample_to=10)
    assert resampled.shape[1] == 10 and bool((resampled < 4).all()) and new_lengths.tolist() == [10] * B


def test_corpus_sampler_episode_shapes():
    tasks = load_corpus(CORPUS, num_dims=3)
    ep = CorpusSampler(tasks, shuffle_trials=True, resample_to=120).sample(5, torch.Generator().manual_seed(1))
    assert ep.tokens.shape == (5, 120, 4) and bool(ep.mask.all())
    assert torch.equal(ep.tokens[:, 1:, -1], ep.targets[:, :-1])


@pytest.mark.parametrize("prior", [LinearPrior(3), MLPPrior(3), RMCPrior(3)])
def test_priors_share_the_tensor_interface(prior):
    sampler = PriorSampler(prior, num_trials=20)
    ep = sampler.sample(64, torch.Generator().manual_seed(0))
    assert ep.tokens.shape == (64, 20, 4)
    assert float(ep.tokens[..., :3].min()) >= 0 and float(ep.tokens[..., :3].max()) <= 1
    assert set(ep.targets.unique().tolist()) <= {0.0, 1.0}
    a, b = sampler.taskset(8, seed=3), sampler.taskset(8, seed=3)
    assert torch.equal(a.x, b.x) and torch.equal(a.y, b.y)


def test_linear_prior_is_linearly_separable():
    x, y = LinearPrior(2).sample_tasks(50, 30, torch.Generator().manual_seed(0))
    # 1[w.x > 0] through the origin: for each task some w separates it perfectly
    angles = torch.linspace(0, 2 * math.pi, 721)
    w = torch.stack([angles.cos(), angles.sin()], 1)
    fits = (((x @ w.T) > 0).float() == y[..., None]).all(dim=1).any(dim=1)
    assert bool(fits.all())


def test_rmc_prior_clusters_share_labels():
    """With a tiny label concentration, labels within a cluster are nearly deterministic, so identical stimuli
    mostly share labels; with coupling 0 every trial is its own cluster (labels ~ independent coin flips)."""
    g = torch.Generator().manual_seed(0)
    x, y = RMCPrior(3, coupling=0.0, label_concentration=1.0).sample_tasks(200, 10, g)
    assert 0.4 < float(y.mean()) < 0.6
    x, y = RMCPrior(3, coupling=0.99, label_concentration=0.01).sample_tasks(200, 10, g)
    agreement = (y == y[:, :1]).float().mean()
    assert float(agreement) > 0.9


@pytest.mark.parametrize("prior", [LinearPrior(3), MLPPrior(3)])
def test_repeat_stimuli_warmup_then_the_plain_prior(prior):
    sampler = PriorSampler(prior, num_trials=40, repeat_stimuli=5, repeat_until=10)
    g = torch.Generator().manual_seed(0)

    def distinct_stimuli(ep):
        return [len(torch.unique(task[:, :3], dim=0)) for task in ep.tokens]

    warm, plain = sampler.sample(16, g, step=9), sampler.sample(16, g, step=10)
    assert max(distinct_stimuli(warm)) <= 5 and min(distinct_stimuli(warm)) >= 2
    assert distinct_stimuli(plain) == [40] * 16
    # a repeated stimulus always gets the same label (the prior is a function of the stimulus)
    for task, labels in zip(warm.tokens, warm.targets):
        for stimulus in torch.unique(task[:, :3], dim=0):
            same = (task[:, :3] == stimulus).all(1)
            assert len(labels[same].unique()) == 1
    with pytest.raises(ValueError, match="RMC stimuli are binary"):
        PriorSampler(RMCPrior(3), num_trials=40, repeat_stimuli=5, repeat_until=10)
