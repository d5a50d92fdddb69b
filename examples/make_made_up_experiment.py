"""Write examples/made_up_experiment.csv: a small invented category-learning experiment in the tidy format.

Eight participants sort fruit described by three measurements (sweetness 0-10, width in cm, hue in degrees) into
apples and pears, in two tasks of 48 trials: in task 1 pears are the wide, less sweet ones; in task 2 hue alone
decides. Their responses are simulated from the shipped ERMI-3D at inverse temperatures between 0.3 and 2, so a fit
should recover them. Seeded: rerunning writes the same file.

    python examples/make_made_up_experiment.py
"""
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from ermi.fitting import cached_logits, simulate_choices
from ermi.model import load_model
from ermi.paths import TRAINED_MODELS
from ermi.tidy import load

OUT = Path(__file__).resolve().parent / "made_up_experiment.csv"
BETAS = np.linspace(0.3, 2.0, 8)


def main():
    rng = np.random.default_rng(7)
    rows = []
    for participant in range(1, 9):
        for task in (1, 2):
            sweet, width, hue = rng.uniform(0, 10, 48), rng.uniform(4, 12, 48), rng.uniform(0, 120, 48)
            pear = (width - sweet > 2.0) if task == 1 else (hue > 60)
            for trial in range(48):
                rows.append({"participant": f"p{participant:02d}", "task": task, "trial": trial + 1,
                             "x1": round(sweet[trial], 1), "x2": round(width[trial], 1), "x3": round(hue[trial]),
                             "correct": "pear" if pear[trial] else "apple", "response": "apple",
                             "condition": "sweet-vs-wide" if task == 1 else "hue"})
    pd.DataFrame(rows).to_csv(OUT, index=False)
    data = load(OUT).data  # read back through the loader, then replace the placeholder responses
    logits = cached_logits(load_model(TRAINED_MODELS / "ermi_categorisation_dim3.pt"), data)
    beta = BETAS[np.searchsorted(data.participants(), data.participant)]
    choices = simulate_choices(logits, data, beta, torch.Generator().manual_seed(7))
    # the loader's sequences are the (participant, task) pairs in sorted order, 48 trials each; 1 = "pear"
    df = pd.read_csv(OUT).sort_values(["participant", "task", "trial"], kind="stable").reset_index(drop=True)
    df["response"] = np.where(choices.reshape(-1).numpy() == 1, "pear", "apple")
    df.to_csv(OUT, index=False)
    print(f"wrote {OUT}: {df.participant.nunique()} participants, {len(df)} trials; true betas {BETAS.round(2).tolist()}")


if __name__ == "__main__":
    main()
