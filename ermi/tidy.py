"""One tidy input format for human data, per domain: one row per trial.

| column | meaning |
|---|---|
| ``participant`` | participant id (any text or number) |
| ``task`` | a block or problem within which learning happens (the model starts afresh in each) |
| ``trial`` | order of the trials within a participant's task (numbers) |
| ``x1`` ... ``xD`` | the stimulus: D numbers (features; cue differences A - B in decision making; the input in
  function learning) |
| ``correct`` | the right answer: a category label (categorisation), ``A``/``B`` or 1/0 (decision making: is A
  better), a number (function learning) |
| ``response`` | the participant's answer, in the same terms |
| ``condition`` | optional: a label per task (e.g. the problem type), kept in the fits |

Extra columns pass through untouched. Every loader validates and fails with one ``file:row: problem`` line.
Categorisation features are min-max scaled to [0, 1] over the file (one stimulus space per experiment); a task's
two labels are coded 0/1 in sorted order (fits average over the coding anyway, see ermi.codings); a third label
in a task is an error.
"""
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from ermi.fitting import ChoiceData
from ermi.paths import read_table, show_cell

REQUIRED = ("participant", "task", "trial", "correct", "response")
DOMAINS = ("categorisation", "decisionmaking", "functionlearning")


class TidyError(ValueError):
    """A problem in a tidy data file, phrased as ``file:row: problem``."""


@dataclass
class Dataset:
    """A validated experiment: its domain, the trial sequences (targets and choices coded for the models) and the
    rows as read (numeric responses for function learning live in ``choices`` / ``targets`` unscaled)."""

    domain: str
    data: ChoiceData
    frame: pd.DataFrame
    path: str
    num_features: int


def feature_columns(df, path) -> list:
    """x1 ... xD, numbered from 1 without gaps."""
    numbers = sorted(int(m.group(1)) for c in df.columns if (m := re.fullmatch(r"x(\d+)", str(c))))
    if not numbers:
        raise TidyError(f"{path}:1: no stimulus columns (x1, x2, ...)")
    if numbers != list(range(1, len(numbers) + 1)):
        missing = sorted(set(range(1, max(numbers) + 1)) - set(numbers))
        raise TidyError(f"{path}:1: stimulus columns must be x1..x{max(numbers)}; missing x{missing[0]}")
    return [f"x{n}" for n in numbers]


def _fail(path, df, bad, column, problem):
    i = int(np.flatnonzero(bad)[0])
    line = df["ermi_line"].iloc[i] if "ermi_line" in df else i + 2  # the file's line, also after sorting
    raise TidyError(f"{path}:{line}: {column} {show_cell(df[column].iloc[i])} {problem}")


def read_tidy(path, domain, frame=None) -> tuple:
    """(rows sorted by participant, task, trial; feature columns), checked for what every domain needs. ``frame``:
    rows already in memory (an experiment's own file converted to this format), reported under ``path``."""
    if domain not in DOMAINS:
        raise TidyError(f"unknown domain {domain!r}; choose one of {', '.join(DOMAINS)}")
    df = read_table(path, REQUIRED, TidyError, keep_default_na=True) if frame is None else frame.copy()
    features = feature_columns(df, path)
    df = df.reset_index(drop=True)
    for column in ("participant", "task", "correct", "response"):
        missing = df[column].isna()
        if missing.any():
            i = int(np.flatnonzero(missing)[0])
            raise TidyError(f"{path}:{i + 2}: {column} is missing")
    for column in ["trial", *features]:
        values = pd.to_numeric(df[column], errors="coerce")
        bad = values.isna() | ~np.isfinite(values.fillna(0))
        if bad.any():
            _fail(path, df, bad, column, "is not a number")
        df[column] = values
    df["ermi_line"] = np.arange(len(df)) + 2
    duplicated = df.duplicated(["participant", "task", "trial"])
    if duplicated.any():
        _fail(path, df, duplicated.to_numpy(), "trial", "repeats a trial of the same participant and task")
    # positions in the sorted rows index every array built from them
    return df.sort_values(["participant", "task", "trial"], kind="stable").reset_index(drop=True), features


def _sequences(df):
    return list(df.groupby(["participant", "task"], sort=False))


def _choice_data(df, features, targets, choices, x) -> ChoiceData:
    groups = _sequences(df)
    S, T = len(groups), max(len(g) for _, g in groups)
    X, Y, C = torch.zeros(S, T, len(features)), torch.zeros(S, T), torch.zeros(S, T)
    lengths = torch.zeros(S, dtype=torch.long)
    participant = np.empty(S, dtype=object)
    condition = np.empty(S, dtype=object)
    for s, ((pid, task), g) in enumerate(groups):
        rows = g.index.to_numpy()
        n = len(rows)
        X[s, :n] = torch.as_tensor(x[rows], dtype=torch.float32)
        Y[s, :n] = torch.as_tensor(targets[rows], dtype=torch.float32)
        C[s, :n] = torch.as_tensor(choices[rows], dtype=torch.float32)
        lengths[s], participant[s] = n, pid
        condition[s] = g["condition"].iloc[0] if "condition" in g else task
    return ChoiceData(X, Y, C, lengths, _ids(participant), _ids(condition))


def _ids(values: np.ndarray) -> np.ndarray:
    """Integer ids as an int64 array (as the experiments' own loaders give them), anything else as text."""
    integers = all(isinstance(v, (int, np.integer)) for v in values)
    return values.astype(np.int64) if integers else values.astype(str)


def load(path, domain="categorisation", frame=None, scale=True) -> Dataset:
    """Read and validate a tidy file for a domain (or, with ``frame``, rows converted from another format).
    ``scale=False`` keeps categorisation features as they are (for data already coded 0/1)."""
    df, features = read_tidy(path, domain, frame)
    x = df[features].to_numpy(dtype=np.float64)
    if domain == "categorisation":
        targets, choices = np.zeros(len(df)), np.zeros(len(df))
        for (pid, task), g in _sequences(df):
            seen = []  # the task's labels in order of appearance, correct answers before responses
            for row in g.itertuples():
                for column in ("correct", "response"):
                    label = str(getattr(row, column))
                    if label not in seen:
                        if len(seen) == 2:
                            raise TidyError(f"{path}:{row.ermi_line}: {column} {show_cell(getattr(row, column))} is a "
                                            f"third label in participant {pid}'s task {task} (it has "
                                            f"{', '.join(map(repr, seen))})")
                        seen.append(label)
            labels = sorted(seen)
            one = labels[-1]
            targets[g.index] = (g["correct"].astype(str) == one).to_numpy()
            choices[g.index] = (g["response"].astype(str) == one).to_numpy()
        if scale:
            low, span = x.min(0), x.max(0) - x.min(0)
            x = np.where(span > 0, (x - low) / np.where(span > 0, span, 1.0), 0.5)
    elif domain == "decisionmaking":
        coded = {}
        for column in ("correct", "response"):
            values = df[column].astype(str).str.strip().str.upper().map({"A": 1.0, "B": 0.0, "1": 1.0, "0": 0.0,
                                                                         "1.0": 1.0, "0.0": 0.0})
            if values.isna().any():
                _fail(path, df, values.isna().to_numpy(), column, "is not A, B, 1 or 0 (1 = option A)")
            coded[column] = values.to_numpy()
        targets, choices = coded["correct"], coded["response"]
    else:
        coded = {}
        for column in ("correct", "response"):
            values = pd.to_numeric(df[column], errors="coerce")
            if values.isna().any():
                _fail(path, df, values.isna().to_numpy(), column, "is not a number")
            coded[column] = values.to_numpy(dtype=np.float64)
        targets, choices = coded["correct"], coded["response"]
    return Dataset(domain, _choice_data(df, features, targets, choices, x), df.drop(columns="ermi_line"), str(path),
                   len(features))


def is_tidy(path) -> bool:
    """True when a CSV's header has the tidy format's columns (so scripts can tell it from an experiment's own)."""
    header = pd.read_csv(path, nrows=0).columns
    return set(REQUIRED) <= set(header) and "x1" in header
