"""Compare fitted models on one experiment: per-participant BIC/AIC table, group Bayesian model selection and a
figure (mean BIC +- s.e.m., protected exceedance probabilities, per-participant winning-model counts).

Reads every fits CSV ``{task}_*.csv`` in the model-comparison folder (baselines from run_baselines.py,
meta-learners from fit_humans.py); the model name comes from the ``model`` column. Log evidence = -BIC / 2.

  python categorisation/model_comparison.py --task-name badham2017
"""
import argparse

from categorisation.experiments import DATA
from ermi.comparison import report
from ermi.paths import FIGURES
from ermi.selection import PRIORS

FOLDER = DATA / "model_comparison"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--task-name", default="badham2017")
    parser.add_argument("--folder", default=str(FOLDER), help="where the fits CSVs are")
    parser.add_argument("--models", nargs="+", default=None, help="model names to compare (default: all found)")
    parser.add_argument("--output", default=None, help="summary CSV (default: <folder>/<task>_comparison.csv)")
    parser.add_argument("--figure", default=None, help="default: figures/<task>_model_comparison.png")
    parser.add_argument("--samples", type=int, default=1_000_000, help="Dirichlet samples for exceedance (K > 2)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--prior", choices=PRIORS, default="vba", help="Dirichlet prior on model frequencies: vba = "
                        "1/K each (VBA / groupBMC, as the reference), spm = 1 each (Stephan et al. 2009)")
    args = parser.parse_args(argv)

    figure = args.figure or FIGURES / f"{args.task_name}_model_comparison.png"
    report(args.folder, args.task_name, args.models, args.output, figure, args.samples, args.seed, args.prior)


if __name__ == "__main__":
    try:
        main()
    except (ValueError, FileNotFoundError) as err:
        raise SystemExit(f"error: {err}")
