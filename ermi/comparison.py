"""Group-level model comparison of fitted models, shared by every domain: per-participant BIC/AIC table, random-effects
Bayesian model selection (log evidence = -BIC / 2) and a figure (mean BIC +- s.e.m., exceedance and protected
exceedance probabilities, per-participant winning-model counts). Fits come from the fits CSVs every fitting
script writes (one row per model x participant)."""
import time
from pathlib import Path

import numpy as np
import pandas as pd

from ermi.paths import ensure_parent, write_sidecar
from ermi.selection import bms

SUMMARY_SUFFIXES = ("_comparison.csv", "_per_participant.csv")


def load_fits(folder, task, models=None):
    """All fits rows of a task, long format (model, participant, nll, n_trials, k, bic, aic, pseudo_r2)."""
    paths = [p for p in sorted(Path(folder).glob(f"{task}_*.csv")) if not p.name.endswith(SUMMARY_SUFFIXES)]
    frames = []
    for path in paths:
        df = pd.read_csv(path)
        needed = {"model", "participant", "nll", "n_trials", "k", "bic", "aic", "pseudo_r2"}
        if not needed <= set(df.columns):
            raise ValueError(f"{path}:1: not a fits file (missing {', '.join(sorted(needed - set(df.columns)))})")
        frames.append(df[sorted(needed)])
    if not frames:
        raise FileNotFoundError(f"{folder}: no fits files {task}_*.csv (run run_baselines.py / fit_humans.py first)")
    fits = pd.concat(frames, ignore_index=True)
    if models:
        unknown = sorted(set(models) - set(fits.model))
        if unknown:
            found = ", ".join(sorted(fits.model.unique()))
            raise ValueError(f"no fits for model(s) {', '.join(unknown)}; found {found}")
        fits = fits[fits.model.isin(models)]
    if fits.duplicated(["model", "participant"]).any():
        dup = fits[fits.duplicated(["model", "participant"])].iloc[0]
        raise ValueError(f"model {dup.model} has two fits of participant {dup.participant} "
                         "(two files with one model name?)")
    return fits


def compare(fits, samples=1_000_000, seed=0, prior="vba"):
    """(per-participant wide table, per-model summary, BMS result) on the participants every model has."""
    wide = fits.pivot(index="participant", columns="model", values="bic")
    dropped = wide.index[wide.isna().any(axis=1)]
    if len(dropped):
        print(f"note: {len(dropped)} participant(s) lack a fit for some model and are left out: {list(dropped)[:10]}")
    wide = wide.dropna()
    models = list(wide.columns)
    result = bms(-wide.to_numpy() / 2.0, samples=samples, seed=seed, prior=prior)
    winner = wide.idxmin(axis=1)
    kept = fits[fits.participant.isin(wide.index)]
    grouped = kept.groupby("model")
    summary = pd.DataFrame({
        "model": models,
        "participants": [len(wide)] * len(models),
        "k_mean": grouped.k.mean()[models].to_numpy(),
        "nll_mean": grouped.nll.mean()[models].to_numpy(),
        "bic_mean": wide.mean()[models].to_numpy(),
        "bic_sem": (wide.std(ddof=1) / np.sqrt(len(wide)))[models].to_numpy() if len(wide) > 1 else np.nan,
        "bic_sum": wide.sum()[models].to_numpy(),
        "aic_mean": grouped.aic.mean()[models].to_numpy(),
        "pseudo_r2_mean": grouped.pseudo_r2.mean()[models].to_numpy(),
        "wins": [int((winner == m).sum()) for m in models],
        "expected_frequency": result.expected_frequency,
        "exceedance": result.exceedance,
        "protected_exceedance": result.protected_exceedance,
        "bor": result.bor,
    })
    table = kept.pivot(index="participant", columns="model", values=["nll", "bic", "aic", "pseudo_r2"])
    table.columns = [f"{metric}_{model}" for metric, model in table.columns]
    table["winner_bic"] = winner
    return table.reset_index(), summary.sort_values("bic_mean").reset_index(drop=True), result


def plot(summary, path, title):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    names, x = summary.model, np.arange(len(summary))
    axes[0].bar(x, summary.bic_mean, yerr=summary.bic_sem, color="0.6", capsize=3)
    lo = (summary.bic_mean - summary.bic_sem.fillna(0)).min()
    axes[0].set_ylim(lo - 0.05 * abs(lo), None)
    axes[0].set_ylabel("mean BIC (lower is better)")
    axes[1].bar(x - 0.2, summary.exceedance, 0.4, label="exceedance", color="tab:blue")
    axes[1].bar(x + 0.2, summary.protected_exceedance, 0.4, label="protected", color="tab:orange")
    axes[1].set_ylim(0, 1)
    axes[1].set_ylabel("probability")
    axes[1].set_title(f"BOR = {summary.bor.iloc[0]:.3f}", fontsize=9)
    axes[1].legend(frameon=False, fontsize=8)
    axes[2].bar(x, summary.wins, color="tab:green")
    axes[2].set_ylabel("participants best fit (BIC)")
    axes[2].yaxis.set_major_locator(MaxNLocator(integer=True))
    for ax in axes:
        ax.set_xticks(x, names, rotation=30, ha="right")
        ax.spines[["top", "right"]].set_visible(False)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(ensure_parent(path), dpi=150)
    plt.close(fig)


def report(folder, task, models=None, output=None, figure=None, samples=1_000_000, seed=0, prior="vba", title=None):
    """Compare every fits file ``{folder}/{task}_*.csv``: writes ``{task}_comparison.csv`` (per model),
    ``{task}_per_participant.csv``, a JSON sidecar and the figure, prints the table; returns the summary."""
    started = time.time()
    fits = load_fits(folder, task, models)
    table, summary, result = compare(fits, samples, seed, prior)
    output = Path(output or Path(folder) / f"{task}_comparison.csv")
    summary.to_csv(ensure_parent(output), index=False)
    table.to_csv(output.with_name(output.stem.removesuffix("_comparison") + "_per_participant.csv"), index=False)
    write_sidecar(output, started, seed=seed, samples=samples, prior=prior, models=list(summary.model))
    if figure:
        plot(summary, figure, title or f"{task}: {len(table)} participants")
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(summary.drop(columns=["bor"]).round(3).to_string(index=False))
    print(f"Bayesian omnibus risk {result.bor:.3f}; table -> {output}" + (f"; figure -> {figure}" if figure else ""))
    return summary
