"""Meta-train the decision-making transformer with the weights head (P(A) = sigmoid(w_t . x_t)): MI-DM on the
paired-comparison simulator of Binz et al. (2022) for one condition (--synthetic --condition ranking | direction |
none), or ERMI-DM on LLM-generated problems (a corpus of options, turned into paired comparisons as the reference
does; decisionmaking/problems.py).

    python decisionmaking/train_transformer.py --synthetic --condition ranking --output trained_models/mi_decisionmaking_ranking.pt
    python decisionmaking/train_transformer.py --env-name llama-3_decisionmaking_ranked_dim4 --condition ranking --shuffle
"""
import argparse

import torch

from decisionmaking.baselines.strategies import predictions
from decisionmaking.problems import problems_from_options
from ermi.episodes import CorpusSampler, PairedComparisonPrior, PriorSampler, heldout_episode
from ermi.paths import domain_dir
from ermi.training import add_training_args, corpus_paths, prior_validation, run_training, split_corpus

DOMAIN = domain_dir("decisionmaking")


def ideal_observer_accuracy(ep) -> float:
    """Accuracy of the ideal observer (sequential Bayesian probit regression) on the same episode."""
    p = predictions(ep.tokens[..., :-1], ep.targets)["ideal_observer"]
    correct = torch.where(p == 0.5, 0.5, ((p > 0.5).double() == ep.targets.double()).double())
    return float(correct[ep.mask].mean())


def build_data(args, device):
    """(sampler, validation Episode, num_dims, provenance) for the simulator or an LLM corpus."""
    if args.synthetic:
        prior = PairedComparisonPrior(args.num_dims, args.condition)
        sampler = PriorSampler(prior, args.max_steps, device, scale=False)
        val = prior_validation(sampler, args)
        provenance = {"prior": "mi", "condition": args.condition, "corpus": None}
    else:
        paths = corpus_paths(args.env_name, args.env_dir)
        tasks = problems_from_options(paths, args.num_dims)
        train_set, val_set, _, corpus = split_corpus(tasks, paths, args.split_seed)
        sampler = CorpusSampler(train_set.to(device), shuffle_trials=args.shuffle, flip_labels=False)
        val = heldout_episode(val_set)
        provenance = {"prior": "ermi", "condition": args.condition, **corpus}
    provenance["ideal_observer_val_acc"] = ideal_observer_accuracy(val)
    return sampler, val, args.num_dims, provenance


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--synthetic", action="store_true", help="train on the study's simulator (MI-DM)")
    parser.add_argument("--condition", choices=PairedComparisonPrior.CONDITIONS, default="none",
                        help="simulator weights (ranking, direction, none); for a corpus, the condition it was "
                             "generated under (recorded in the model card)")
    parser.add_argument("--env-name", nargs="+", default=["llama-3_decisionmaking_ranked_dim4"],
                        help="corpus file(s) of options (input = cue values, target = criterion)")
    parser.add_argument("--env-dir", default=str(DOMAIN / "data" / "generated_tasks"))
    parser.add_argument("--split-seed", type=int, default=0, help="seed of the 80/10/10 train/val/test task split")
    parser.add_argument("--num-dims", type=int, default=4, help="cues")
    parser.add_argument("--shuffle", action="store_true", help="shuffle the comparisons' order per task")
    add_training_args(parser, num_episodes=10000, max_steps=10, batch_size=64)
    args = parser.parse_args(argv)
    run_name = f"synthetic_{args.condition}" if args.synthetic else \
        "+".join(n.split("/")[-1].removesuffix(".csv") for n in args.env_name)
    run_training(parser, args, build_data, DOMAIN, head="weights", run_name=run_name, shuffle=args.shuffle)


if __name__ == "__main__":
    main()
