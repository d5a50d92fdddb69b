"""Human category-learning data and the classic experimental designs, as padded tensors.

Loaders validate and fail with one ``file:row: problem`` line. Designs are exact: Shepard, Hovland & Jenkins
(1961) types I-VI use the canonical assignments (Nosofsky et al. 1994, Table 1) and blocked presentation (every
block shows each of the 8 stimuli twice), unlike the reference's random 3+1 / 2+2 structures.
"""
import itertools
import json
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from ermi import tidy
from ermi.fitting import ChoiceData
from ermi.paths import domain_dir, read_table, show_cell

DATA = domain_dir("categorisation") / "data"
HUMAN = DATA / "human"
BADHAM_COLUMNS = ("participant", "task", "trial", "choice", "correct_choice", "block", "condition",
                  "feature1", "feature2", "feature3")


class DataError(ValueError):
    """A human-data problem, phrased as ``file:row: problem``."""


def badham_path() -> Path:
    """The full Badham et al. (2017) file (95 participants; tests use tests/fixtures/ excerpts)."""
    return HUMAN / "badham2017deficits.csv"


def load_badham2017(path=None) -> ChoiceData:
    """One sequence per (participant, block); 'j' is coded 1. Blocks may be shorter than 96 trials. Validated in the
    experiment's own terms, then read as a tidy dataset (ermi.tidy), like any other experiment."""
    path = Path(path or badham_path())
    df = read_table(path, BADHAM_COLUMNS, DataError)
    line = np.arange(len(df)) + 2
    for column in ("choice", "correct_choice"):
        bad = ~df[column].isin(["j", "f"])
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise DataError(f"{path}:{line[i]}: {column} is {show_cell(df[column].iloc[i])}, expected 'j' or 'f'")
    features = ["feature1", "feature2", "feature3"]
    for column in features + ["participant", "block", "trial", "condition"]:
        values = pd.to_numeric(df[column], errors="coerce")
        bad = values.isna() | (values != values.round())
        if column in features:
            bad |= ~values.isin([0, 1])
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            expected = "0 or 1" if column in features else "an integer"
            raise DataError(f"{path}:{line[i]}: {column} is {show_cell(df[column].iloc[i])}, expected {expected}")
    df = df.assign(line=line).sort_values(["participant", "block", "trial"], kind="stable")
    groups = list(df.groupby(["participant", "block"], sort=True))
    for (pid, block), g in groups:
        if g["condition"].nunique() != 1:
            raise DataError(f"{path}:{int(g.line.iloc[0])}: participant {pid} block {block} mixes conditions "
                            f"{sorted(g.condition.unique())}")
        if g["trial"].duplicated().any():
            raise DataError(f"{path}:{int(g.line[g.trial.duplicated()].iloc[0])}: participant {pid} repeats trial "
                            f"{int(g.trial[g.trial.duplicated()].iloc[0])}")
    # the features are 0/1 by design: kept as they are, also where a subset of the file leaves one constant
    return tidy.load(path, "categorisation", frame=_badham_rows(df.sort_index()), scale=False).data


def _badham_rows(df: pd.DataFrame) -> pd.DataFrame:
    """Badham's columns as the tidy format's: one task per block, the keys 'j' / 'f' as labels."""
    return pd.DataFrame({"participant": df.participant, "task": df.block, "trial": df.trial,
                         "x1": df.feature1, "x2": df.feature2, "x3": df.feature3,
                         "correct": df.correct_choice, "response": df.choice, "condition": df.condition})


def badham_tidy(path=None) -> pd.DataFrame:
    """The Badham et al. (2017) file in the tidy format (ermi.tidy), as load_badham2017 reads it."""
    path = Path(path or badham_path())
    load_badham2017(path)  # validate first: errors name the experiment's own columns
    return _badham_rows(pd.read_csv(path))


def write_badham_format(data: ChoiceData, path):
    """Write sequences (human or simulated choices) in the Badham 2017 CSV format, one row per trial."""
    names = (("Small", "Big"), ("White", "Black"), ("Triangle", "Square"))
    rows = []
    trial_counter = {}
    for s in range(len(data.lengths)):
        pid = int(data.participant[s])
        block = sum(1 for r in range(s) if data.participant[r] == pid)
        for t in range(int(data.lengths[s])):
            f = [int(v) for v in data.x[s, t].tolist()]
            correct, choice = int(data.targets[s, t]), int(data.choices[s, t])
            trial = trial_counter.get(pid, 0)
            trial_counter[pid] = trial + 1
            rows.append({"participant": pid, "task": 0, "trial": trial, "choice": "j" if choice else "f",
                         "correct_choice": "j" if correct else "f", "reward": 1.0 if choice == correct else -1.0,
                         "block": block, "condition": int(data.condition[s]), "category": correct,
                         "object": " ".join(names[d][v] for d, v in enumerate(f)), "all_features": str(f),
                         "feature1": f[0], "feature2": f[1], "feature3": f[2]})
    pd.DataFrame(rows).to_csv(path, index=False)


# --- Shepard, Hovland & Jenkins (1961) --------------------------------------------------------------------

CUBE = np.array(list(itertools.product([0, 1], repeat=3)), dtype=np.float32)  # 000, 001, ..., 111
# Category-1 members of each canonical type over CUBE's order (Nosofsky et al. 1994, Table 1, with 1/2 -> 0/1).
SHEPARD_TYPES = {
    1: [0, 0, 0, 0, 1, 1, 1, 1],
    2: [0, 0, 1, 1, 1, 1, 0, 0],
    3: [1, 1, 1, 0, 0, 1, 0, 0],
    4: [1, 1, 1, 0, 1, 0, 0, 0],
    5: [1, 1, 1, 0, 0, 0, 0, 1],
    6: [1, 0, 0, 1, 0, 1, 1, 0],
}


def shepard_tasks(problem_type, num_tasks, num_blocks, generator, block_size=16):
    """Tasks of one SHJ type: each a random relabelling of the canonical structure (feature permutation and
    negation, label swap), shown in blocks that present each of the 8 stimuli twice in random order.

    Returns x [N, T, 3] and y [N, T] with T = num_blocks * block_size."""
    labels = torch.tensor(SHEPARD_TYPES[problem_type], dtype=torch.float32)
    cube = torch.from_numpy(CUBE)
    repeats = block_size // 8
    order = torch.rand(num_tasks, num_blocks, 8 * repeats, generator=generator).argsort(-1) % 8
    stimulus = order.reshape(num_tasks, -1)
    x, y = cube[stimulus], labels[stimulus]
    perm = torch.rand(num_tasks, 3, generator=generator).argsort(-1)
    x = x.gather(2, perm[:, None, :].expand_as(x))
    negate = torch.rand(num_tasks, 1, 3, generator=generator) < 0.5
    x = torch.where(negate, 1.0 - x, x)
    swap = torch.rand(num_tasks, 1, generator=generator) < 0.5
    return x, torch.where(swap, 1.0 - y, y)


def load_nosofsky1994():
    """Human P(error) per 16-trial block for types I-VI: dict type -> np.array of 16 blocks."""
    data = json.loads((HUMAN / "nosofsky1994.json").read_text())
    return {int(k.removeprefix("type")): np.asarray(v["y"]) for k, v in data.items()}


# --- Johansen & Palmeri (2002) 5-4 design -----------------------------------------------------------------

JOHANSEN_ITEMS = {
    "A1": "0001", "A2": "0101", "A3": "0100", "A4": "0010", "A5": "1000",
    "B1": "0011", "B2": "1001", "B3": "1110", "B4": "1111",
    "T1": "0110", "T2": "0111", "T3": "0000", "T4": "1101", "T5": "1010", "T6": "1100", "T7": "1011",
}


def johansen_items():
    names = list(JOHANSEN_ITEMS)
    x = torch.tensor([[float(c) for c in JOHANSEN_ITEMS[n]] for n in names])
    return names, x


def load_johansen2002():
    data = json.loads((HUMAN / "johanssen2002.json").read_text())
    return dict(zip(data["x"], data["y"]))


# --- Smith & Minda (1998) / Devraj et al. (2022) six-dimensional design ----------------------------------

def smith1998_design():
    """14 stimuli: category A = prototype 000000, its one-bit variants at positions 0,1,2,4,5 and the exception
    111101; category B = 111111, its zero-bit variants at positions 0,1,2,3,5 and the exception 000100.
    Each exception is one bit from the other category's prototype, at the position that category leaves
    unvaried, so all 14 stimuli are distinct. Labels: A = 0, B = 1."""
    a_proto, b_proto = np.zeros(6), np.ones(6)
    a_items, b_items = [a_proto.copy()], [b_proto.copy()]
    for a_position, b_position in zip((0, 1, 2, 4, 5), (0, 1, 2, 3, 5)):
        a, b = a_proto.copy(), b_proto.copy()
        a[a_position], b[b_position] = 1, 0
        a_items.append(a)
        b_items.append(b)
    a_items.append(np.array([1, 1, 1, 1, 0, 1.0]))
    b_items.append(np.array([0, 0, 0, 1, 0, 0.0]))
    x = torch.tensor(np.stack(a_items + b_items), dtype=torch.float32)
    y = torch.tensor([0.0] * 7 + [1.0] * 7)
    return x, y, np.stack([a_proto, b_proto])


def load_smith1998():
    data = json.loads((HUMAN / "smith1998.json").read_text())
    return {k: np.asarray(v["y"]) for k, v in data.items()}
