"""Random-effects BMS against exact results, and the model-comparison CLI."""
import math

import numpy as np
import pandas as pd
import pytest
from scipy import integrate
from scipy.special import betaln, gammaln

from categorisation.model_comparison import main as model_comparison
from ermi.selection import bms, exceedance_probabilities


def decisive(counts, gap=1000.0):
    """Log evidences where each participant's model is certain: counts[k] participants favour model k."""
    L = np.zeros((sum(counts), len(counts)))
    rows = np.repeat(np.arange(len(counts)), counts)
    L[np.arange(len(rows)), rows] = gap
    return L


def test_two_models_match_the_exact_beta_binomial_answer():
    # 7 of 10 participants certainly use model 1: q(r) is exact, Dirichlet(1 + 7, 1 + 3) = Beta(8, 4).
    result = bms(decisive([7, 3]))
    assert result.alpha == pytest.approx([8, 4])
    assert result.expected_frequency == pytest.approx([8 / 12, 4 / 12])
    # P(r1 > 1/2) for Beta(8, 4) = P(Binomial(11, 1/2) <= 7) = 1816 / 2048
    assert result.exceedance[0] == pytest.approx(1816 / 2048, abs=1e-12)
    # log p(data | RFX) = 10 * 1000 + log B(8, 4) / B(1, 1), exact because g is one-hot
    assert result.free_energy == pytest.approx(10_000 + betaln(8, 4), abs=1e-6)
    assert result.null_free_energy == pytest.approx(10_000 - 10 * math.log(2), abs=1e-9)
    bor = 1 / (1 + math.exp(betaln(8, 4) + 10 * math.log(2)))
    assert result.bor == pytest.approx(bor, abs=1e-9)
    assert result.protected_exceedance == pytest.approx((1 - bor) * result.exceedance + bor / 2)


def test_sampled_exceedance_matches_numerical_integration():
    alpha = np.array([7.0, 4.0, 2.0])
    sampled = exceedance_probabilities(alpha, samples=1_000_000, seed=1)

    def p_first(a):  # P(r_a > both others) by integrating the Dirichlet density over that region
        b, c = [i for i in range(3) if i != a]

        def density(r_b, r_a):
            r = np.zeros(3)
            r[a], r[b], r[c] = r_a, r_b, 1 - r_a - r_b
            if r.min() <= 0:
                return 0.0
            return math.exp(((alpha - 1) * np.log(r)).sum() + gammaln(alpha.sum()) - gammaln(alpha).sum())

        return integrate.dblquad(density, 1 / 3, 1, lambda r_a: max(0.0, 1 - 2 * r_a), lambda r_a: min(r_a, 1 - r_a))[0]

    exact = np.array([p_first(a) for a in range(3)])
    assert exact.sum() == pytest.approx(1, abs=1e-4)
    assert sampled == pytest.approx(exact, abs=3e-3)
    assert bms(decisive([6, 3, 1])).alpha == pytest.approx(alpha)


def test_equal_evidence_gives_uniform_results_and_high_omnibus_risk():
    result = bms(np.zeros((20, 3)))
    assert result.expected_frequency == pytest.approx([1 / 3] * 3, abs=1e-9)
    assert result.protected_exceedance == pytest.approx([1 / 3] * 3, abs=2e-3)
    assert result.bor > 0.9


def test_models_are_exchangeable():
    L = np.random.default_rng(0).normal(0, 3, size=(15, 3))
    a, b = bms(L, seed=3), bms(L[:, [2, 0, 1]], seed=3)
    assert b.alpha == pytest.approx(a.alpha[[2, 0, 1]])
    assert b.bor == pytest.approx(a.bor)


def test_model_comparison_cli(tmp_path):
    rng = np.random.default_rng(0)
    for name, offset in [("good", 0.0), ("bad", 15.0)]:
        nll = 200 + offset + rng.normal(0, 2, 12)
        pd.DataFrame({"model": name, "participant": range(12), "nll": nll, "n_trials": 384, "k": 1,
                      "bic": 2 * nll + np.log(384), "aic": 2 * nll + 2,
                      "pseudo_r2": 1 - nll / (384 * np.log(2))}).to_csv(tmp_path / f"toy_{name}.csv", index=False)
    figure = tmp_path / "cmp.png"
    model_comparison(["--task-name", "toy", "--folder", str(tmp_path), "--figure", str(figure)])
    summary = pd.read_csv(tmp_path / "toy_comparison.csv").set_index("model")
    assert summary.loc["good", "wins"] == 12 and summary.loc["bad", "wins"] == 0
    assert summary.loc["good", "protected_exceedance"] > 0.95
    per_participant = pd.read_csv(tmp_path / "toy_per_participant.csv")
    assert (per_participant.winner_bic == "good").all() and figure.exists()


# 12 participants x 3 models; reference numbers from groupBMC 1.0 (PyPI; the package the ERMI reference called),
# GroupBMC(L.T, max_iter=10000, tolerance=1e-12) with its default prior Dirichlet(1/K), numerical-integration xp.
GROUPBMC_L = [[-2.8, -5.893, 4.818], [6.363, -5.025, -4.727], [-7.074, -3.855, -12.425], [-4.569, 5.188, -1.383],
              [3.418, -1.956, 7.043], [0.797, -1.528, 10.21], [-1.298, -4.885, 0.808], [-0.155, 4.265, -3.687],
              [3.219, 3.411, -2.671], [0.653, -3.323, 9.383], [-2.817, -1.812, -4.263], [-1.384, -0.024, 3.071]]


def test_matches_groupbmc():
    result = bms(np.array(GROUPBMC_L), prior="vba", samples=2_000_000)
    assert result.alpha == pytest.approx([1.6310547, 5.00500134, 6.36394396], abs=1e-6)
    assert result.expected_frequency == pytest.approx([0.12546575, 0.3850001, 0.48953415], abs=1e-7)
    assert result.exceedance == pytest.approx([0.01485445, 0.33191805, 0.65322751], abs=1.5e-3)
    assert result.bor == pytest.approx(0.8360836783636603, abs=1e-7)
    assert result.protected_exceedance == pytest.approx([0.28112945, 0.33310134, 0.38576921], abs=3e-4)
