"""Parameter and model recovery summaries, shared by every domain: simulate participants from each model with known
parameters, refit every model, then report P(best BIC = fitted | generating) and how well the generating model's
parameters come back (records: one row per generator x fitted model x synthetic participant, with ``true_*`` and
``fit_*`` columns where the fitted model is the generator)."""
from pathlib import Path

import numpy as np
import pandas as pd

from ermi.paths import ensure_parent, write_sidecar


def confusion(records):
    """Rows: generating model; columns: fitted model; entries: fraction of participants it wins by BIC."""
    best = records.loc[records.groupby(["generator", "participant"]).bic.idxmin()]
    order = list(dict.fromkeys(records.generator))
    table = pd.crosstab(best.generator, best.fitted, normalize="index")
    return table.reindex(index=order, columns=list(dict.fromkeys(records.fitted)), fill_value=0.0)


def parameter_recovery(records):
    rows = []
    for generator, group in records[records.generator == records.fitted].groupby("generator", sort=False):
        for column in [c for c in group.columns if c.startswith("true_") and group[c].notna().all()]:
            name = column.removeprefix("true_")
            true, fit = group[column].to_numpy(float), group[f"fit_{name}"].to_numpy(float)
            r = np.corrcoef(true, fit)[0, 1] if true.std() > 0 and fit.std() > 0 else np.nan
            rows.append({"model": generator, "parameter": name, "r": r, "mean_abs_error": np.abs(true - fit).mean(),
                         "n": len(true)})
    return pd.DataFrame(rows)


def plot(conf, params, records, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    ax = axes[0]
    ax.imshow(conf.to_numpy(), vmin=0, vmax=1, cmap="Blues")
    for (i, j), v in np.ndenumerate(conf.to_numpy()):
        ax.text(j, i, f"{v:.2f}", ha="center", va="center", color="white" if v > 0.5 else "black")
    ax.set_xticks(range(conf.shape[1]), conf.columns)
    ax.set_yticks(range(conf.shape[0]), conf.index)
    ax.set_xlabel("best-fitting model (BIC)")
    ax.set_ylabel("generating model")
    ax.set_title("model recovery")
    ax = axes[1]
    labels = [f"{m}:{p}" for m, p in zip(params.model, params.parameter)]
    ax.barh(range(len(params)), params.r, color="0.5")
    ax.set_yticks(range(len(params)), labels, fontsize=8)
    ax.set_xlim(-0.2, 1)
    ax.invert_yaxis()
    ax.set_xlabel("r(true, recovered)")
    ax.set_title("parameter recovery")
    fig.tight_layout()
    fig.savefig(ensure_parent(path), dpi=150)
    plt.close(fig)


def report(records, folder, stem, figure, started, **provenance):
    """Write ``{stem}_recovery_fits.csv``, ``{stem}_model_confusion.csv`` (+ sidecar) and
    ``{stem}_parameter_recovery.csv`` under ``folder``, draw the figure and print both tables."""
    conf, params = confusion(records), parameter_recovery(records)
    folder = Path(folder)
    records.to_csv(ensure_parent(folder / f"{stem}_recovery_fits.csv"), index=False)
    conf.to_csv(folder / f"{stem}_model_confusion.csv")
    params.to_csv(folder / f"{stem}_parameter_recovery.csv", index=False)
    write_sidecar(folder / f"{stem}_model_confusion.csv", started, **provenance)
    plot(conf, params, records, figure)
    print("model recovery (rows: generating, columns: best BIC):")
    print(conf.round(2).to_string())
    print("parameter recovery:")
    print(params.round(3).to_string(index=False))
    print(f"-> {folder}/{stem}_*.csv, {figure}")
    return conf, params
