"""Fit a cognitive-model baseline to every participant of a human category-learning experiment.

Writes the fits CSV of ermi.fitting.write_fits (model, participant, parameters, nll, n_trials, k, bic, aic,
pseudo_r2) plus a JSON sidecar, the same format as the meta-learner fits, so model_comparison.py reads both.

  python categorisation/baselines/run_baselines.py --model gcm --task-name badham2017
"""
import argparse
import time

from categorisation.baselines.base import fit_participants
from categorisation.baselines.gcm import GCM
from categorisation.baselines.llm import LLMBaseline, load_llm_choices
from categorisation.baselines.pm import PROTOTYPES, PrototypeModel
from categorisation.baselines.rulex import Rulex
from categorisation.experiments import DATA, badham_path, load_badham2017
from ermi.fitting import write_fits

MODELS = ("gcm", "pm", "rulex", "llm")


def make_model(name, num_dims=3, prototypes="running", exceptions=False):
    if name == "gcm":
        return GCM(num_dims)
    if name == "pm":
        return PrototypeModel(num_dims, prototypes)
    if name == "rulex":
        return Rulex(num_dims, exceptions)
    if name == "llm":
        return LLMBaseline()
    raise ValueError(f"unknown model {name!r}; choose from {', '.join(MODELS)}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", choices=MODELS, required=True)
    parser.add_argument("--task-name", choices=["badham2017"], default="badham2017")
    parser.add_argument("--data", default=None, help="human data CSV (default: the full Badham file); "
                        "for --model llm, a simulate_llm.py output")
    parser.add_argument("--output", default=None, help="default: categorisation/data/model_comparison/"
                        "{task}_{model}[_per_condition].csv")
    parser.add_argument("--per-condition", action="store_true", help="fit every problem separately (the "
                        "reference's counting); NLL and k are summed per participant")
    parser.add_argument("--restarts", type=int, default=5, help="random starts per fit; the best is kept")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--prototypes", choices=PROTOTYPES, default="running", help="PM prototypes")
    parser.add_argument("--exceptions", action="store_true", help="RULEX: allow one exception per problem")
    args = parser.parse_args(argv)

    started = time.time()
    model = make_model(args.model, prototypes=args.prototypes, exceptions=args.exceptions)
    llm = None
    if args.model == "llm":
        path = args.data or DATA / "llm" / f"{args.task_name}_llm_choices_human.csv"
        data, llm = load_llm_choices(path)
    else:
        path = args.data or badham_path()
        data = load_badham2017(path)
    rows = fit_participants(model, data, restarts=args.restarts, seed=args.seed, per_condition=args.per_condition,
                            llm=llm)
    label = f"{args.model}_per_condition" if args.per_condition else args.model
    for row in rows:
        row["model"] = label
    output = args.output or DATA / "model_comparison" / f"{args.task_name}_{label}.csv"
    df = write_fits(rows, output, started, data=str(path), seed=args.seed, restarts=args.restarts,
                    prototypes=args.prototypes if args.model == "pm" else None,
                    exceptions=args.exceptions if args.model == "rulex" else None)
    print(f"{label}: {len(df)} participants, mean NLL {df.nll.mean():.2f}, mean BIC {df.bic.mean():.2f}, "
          f"k {int(df.k.iloc[0])} -> {output} ({time.time() - started:.1f}s)")


if __name__ == "__main__":
    try:
        main()
    except (ValueError, FileNotFoundError) as err:
        raise SystemExit(f"error: {err}")
