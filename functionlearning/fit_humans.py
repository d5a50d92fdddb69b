"""Fit function-learning models to people's numeric predictions, trial by trial, from a file in the tidy format
(README, 'Your own experiment': x1 = the input, correct = the true output, response = the prediction).

Every learner predicts trial t from the trials before it (inputs and targets scaled to [0, 1] per task, as in
training, and mapped back); a participant's responses are fitted as Gaussian around those predictions with one noise
level sigma per participant (k = 1). Writes one fits CSV per model and the comparison table.

    python functionlearning/fit_humans.py --data my_experiment.csv [--models ermi_functionlearning_dim1] [--baselines EXAM]
"""
import argparse

from ermi.api import BASELINES, fit_file
from ermi.paths import domain_dir
from ermi.tidy import TidyError


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", required=True, help="the experiment, in the tidy format")
    parser.add_argument("--models", nargs="*", default=None,
                        help="Gaussian-head weight files or names (default: every shipped 1-D function-learning model)")
    parser.add_argument("--baselines", nargs="*", default=None, choices=BASELINES["functionlearning"],
                        help="default: all of them")
    parser.add_argument("--output-dir", default=str(domain_dir("functionlearning") / "data" / "model_comparison"))
    args = parser.parse_args(argv)
    try:
        fit_file(args.data, "functionlearning", args.models, args.baselines, args.output_dir)
    except (TidyError, FileNotFoundError, ValueError) as err:
        parser.exit(2, f"error: {err}\n")


if __name__ == "__main__":
    main()
