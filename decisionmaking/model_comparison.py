"""Group model comparison per experiment of Binz et al. (2022): mean BIC, pseudo-R2, winning-model counts and
random-effects Bayesian model selection (protected exceedance probabilities), from the fits of fit_humans.py.

    python decisionmaking/model_comparison.py [--experiments 1 2 3 4]
"""
import argparse

from decisionmaking.experiments import EXPERIMENTS
from decisionmaking.fit_humans import OUTPUT_DIR
from ermi.comparison import report
from ermi.paths import FIGURES
from ermi.selection import PRIORS


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--experiments", type=int, nargs="+", default=sorted(EXPERIMENTS), choices=sorted(EXPERIMENTS))
    parser.add_argument("--folder", default=str(OUTPUT_DIR), help="where the fits CSVs are")
    parser.add_argument("--models", nargs="+", default=None, help="model names to compare (default: all found)")
    parser.add_argument("--figure-dir", default=str(FIGURES))
    parser.add_argument("--samples", type=int, default=1_000_000, help="Dirichlet samples for exceedance (K > 2)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--prior", choices=PRIORS, default="vba")
    args = parser.parse_args(argv)
    for number in args.experiments:
        experiment = EXPERIMENTS[number]
        print(f"\nexperiment {number}: {experiment.condition}, {experiment.num_cues} cues")
        report(args.folder, experiment.name, args.models, figure=f"{args.figure_dir}/{experiment.name}_model_comparison.png",
               samples=args.samples, seed=args.seed, prior=args.prior,
               title=f"Binz et al. (2022) experiment {number} ({experiment.condition}, {experiment.num_cues} cues)")


if __name__ == "__main__":
    try:
        main()
    except (ValueError, FileNotFoundError) as err:
        raise SystemExit(f"error: {err}")
