"""Function-learning experiments: the DeLosh, Busemeyer & McDaniel (1997) design, the Kwantes & Neal (2006) human
extrapolation curve, and the scale that maps an experiment's raw numbers to the [0, 1] a model works on and back.
"""
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from ermi.paths import domain_dir, read_table

HUMAN = domain_dir("functionlearning") / "data" / "human"

# DeLosh et al. (1997): inputs 0-100, training on [30, 70]
DELOSH_FUNCTIONS = {
    "linear": lambda x: 2.2 * x + 30,
    "exponential": lambda x: 200 * (1 - np.exp(-x / 25)),
    "quadratic": lambda x: 210 - (x - 50) ** 2 / 12,
}
INPUT_RANGE = (0.0, 100.0)
TRAINING_RANGE = (30.0, 70.0)


class DataError(ValueError):
    """A human-data problem, phrased as ``file:row: problem``."""


@dataclass(frozen=True)
class Scale:
    """Affine maps between an experiment's raw inputs / responses and the model's [0, 1] (the raw response range is
    the experiment's response scale, e.g. the range of the function over all inputs)."""

    x_low: float
    x_high: float
    y_low: float
    y_high: float

    def x(self, raw):
        return (raw - self.x_low) / (self.x_high - self.x_low)

    def y(self, raw):
        return (raw - self.y_low) / (self.y_high - self.y_low)

    def raw_y(self, scaled):
        return self.y_low + scaled * (self.y_high - self.y_low)

    def raw_sd(self, scaled_sd):
        return scaled_sd * (self.y_high - self.y_low)

    @classmethod
    def for_function(cls, f, x_range=INPUT_RANGE, points=1001):
        """Inputs over x_range; responses over the function's range there."""
        values = f(np.linspace(*x_range, points))
        return cls(x_range[0], x_range[1], float(values.min()), float(values.max()))


def delosh_training(function, num_runs, num_points=20, seed=0):
    """``num_runs`` random orders of ``num_points`` evenly spaced training inputs in [30, 70] and their targets
    (raw units): x, y [num_runs, num_points]."""
    f = DELOSH_FUNCTIONS[function]
    points = np.linspace(*TRAINING_RANGE, num_points)
    rng = np.random.default_rng(seed)
    x = np.stack([rng.permutation(points) for _ in range(num_runs)])
    return torch.tensor(x), torch.tensor(f(x))


def load_kwantes2006(path=None) -> pd.DataFrame:
    """Mean human predictions y at inputs x over the whole range (Kwantes & Neal 2006)."""
    path = path or HUMAN / "kwantes2006extrapolation.csv"
    df = read_table(path, ("x", "y"), DataError)
    for column in ("x", "y"):
        values = pd.to_numeric(df[column], errors="coerce")
        if values.isna().any():
            raise DataError(f"{path}:{int(np.flatnonzero(values.isna())[0]) + 2}: {column} is not a number")
        df[column] = values
    return df
