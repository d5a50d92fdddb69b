"""Human data of Binz, Gershman, Schulz & Endres (2022): paired comparisons with 4 (or 2) continuous cues.

Each participant does 30 tasks of 10 trials; a task has a fresh weight vector, so it is one learning problem. The
files hold the cue differences x_k = cue_k(A) - cue_k(B), the choice (1 = A) and the better option (1 = A). The
loader validates every row and fails with one ``file:row: problem`` line.
"""
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ermi import tidy
from ermi.fitting import ChoiceData
from ermi.paths import domain_dir, read_table, show_cell

DATA = domain_dir("decisionmaking") / "data"
HUMAN = DATA / "human"
CUES = ("x0", "x1", "x2", "x3")
COLUMNS = ("participant", "task", "step", *CUES, "choice", "target")


@dataclass(frozen=True)
class Experiment:
    number: int
    condition: str  # what participants were told: ranking, direction or none
    num_cues: int

    @property
    def path(self) -> Path:
        return HUMAN / f"binz2022heuristics_exp{self.number}.csv"

    @property
    def name(self) -> str:
        return f"binz2022_exp{self.number}"


# Published numbering (the study's own files exp3.csv / exp4.csv are experiments 3b / 3; see data/SOURCES.md).
EXPERIMENTS = {1: Experiment(1, "ranking", 4), 2: Experiment(2, "direction", 4), 3: Experiment(3, "none", 2),
               4: Experiment(4, "none", 4)}


# The files' cue columns are cue(B) - cue(A) relative to choice / target 1 = A: in experiment 2 every weight is
# positive, yet target = 1 grows less likely with every cue (logistic weights -0.8 to -1.6 on the raw columns). The
# loader negates them, so that x = cue(A) - cue(B) as documented and a positive weight favours A. Baselines with
# symmetric priors are unaffected; models with a sign preference (MI-DM direction, ERMI-DM) need it.
SIGN = -1


class DataError(ValueError):
    """A human-data problem, phrased as ``file:row: problem``."""


def load_binz2022(path, num_cues=4) -> ChoiceData:
    """One sequence per (participant, task), trials in ``step`` order: x [S, 10, 4] cue differences cue(A) - cue(B)
    (the files' columns negated, see SIGN), targets and choices (1 = option A), ``condition`` holding the task
    number. Only the first ``num_cues`` cues are read; the others are set to 0 (experiment 3's file holds
    uninitialised numbers up to 1e62 in x2 and x3). Validated here, then read as a tidy dataset (ermi.tidy)."""
    df = read_table(path, COLUMNS, DataError)
    line = np.arange(len(df)) + 2
    unused = list(CUES[num_cues:])
    df[unused] = 0.0
    for column in COLUMNS:
        values = pd.to_numeric(df[column], errors="coerce")
        bad = values.isna() | ~np.isfinite(values)
        if column in ("participant", "task", "step"):
            bad |= values != values.round()
        if column in ("choice", "target"):
            bad |= ~values.isin([0, 1])
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            expected = {"choice": "0 or 1", "target": "0 or 1"}.get(column, "a number" if column in CUES else "an integer")
            raise DataError(f"{path}:{line[i]}: {column} is {show_cell(df[column].iloc[i])}, expected {expected}")
        df[column] = values
    df = df.assign(line=line).sort_values(["participant", "task", "step"], kind="stable")
    duplicated = df.duplicated(["participant", "task", "step"])
    if duplicated.any():
        row = df[duplicated].iloc[0]
        raise DataError(f"{path}:{int(row.line)}: participant {int(row.participant)} task {int(row.task)} repeats step "
                        f"{int(row.step)}")
    return tidy.load(path, "decisionmaking", frame=_binz_rows(df.drop(columns="line").sort_index())).data


def _binz_rows(df: pd.DataFrame) -> pd.DataFrame:
    """The study's columns as the tidy format's: x1..x4 = cue(A) - cue(B) (the files' columns negated, see SIGN),
    correct / response 1 = option A."""
    tidy_rows = pd.DataFrame({"participant": df.participant, "task": df.task, "trial": df.step})
    for k, cue in enumerate(CUES):
        tidy_rows[f"x{k + 1}"] = SIGN * df[cue]
    return tidy_rows.assign(correct=df.target, response=df.choice)


def binz_tidy(number) -> pd.DataFrame:
    """An experiment of Binz et al. (2022) in the tidy format (ermi.tidy), as load_experiment reads it: four cue
    columns (the unused ones 0 in experiment 3), 1 = option A."""
    experiment = EXPERIMENTS[number]
    load_binz2022(experiment.path, experiment.num_cues)  # validate first: errors name the study's own columns
    df = pd.read_csv(experiment.path)
    df[list(CUES[experiment.num_cues:])] = 0.0
    return _binz_rows(df).assign(condition=experiment.condition)


def load_experiment(number) -> ChoiceData:
    if number not in EXPERIMENTS:
        raise DataError(f"no experiment {number}; Binz et al. (2022) has {', '.join(map(str, EXPERIMENTS))}")
    return load_binz2022(EXPERIMENTS[number].path, EXPERIMENTS[number].num_cues)
