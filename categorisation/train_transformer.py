"""Meta-train the categorisation transformer: ERMI on an LLM-generated corpus, MI (--synthetic), PFN
(--synthetic --nonlinear) or RMC (--rmc) on synthetic priors.

    python categorisation/train_transformer.py --env-name llama-3_categorisation_dim3_procid0 \
        llama-3_categorisation_dim3_procid1 --shuffle --shuffle-features --sample-to-match-max-steps --max-steps 100
    python categorisation/train_transformer.py --synthetic --num-dims 3 --max-steps 100 --output trained_models/mi.pt
"""
import argparse
from pathlib import Path


from ermi.episodes import CorpusSampler, LinearPrior, MLPPrior, PriorSampler, RMCPrior, heldout_episode, load_corpus
from ermi.paths import domain_dir
from ermi.training import add_training_args, corpus_paths, prior_validation, run_training, split_corpus

DOMAIN = domain_dir("categorisation")
DEFAULT_CORPUS = ("llama-3_categorisation_dim3_procid0", "llama-3_categorisation_dim3_procid1")


def build_data(args, device):
    """(sampler, validation Episode, num_dims, provenance) for the chosen prior or corpus."""
    if args.synthetic or args.rmc:
        args.num_dims = args.num_dims or 3
        if args.rmc:
            prior, name = RMCPrior(args.num_dims), "rmc"
        elif args.nonlinear:
            prior, name = MLPPrior(args.num_dims), "pfn"
        else:
            prior, name = LinearPrior(args.num_dims), "mi"
        if args.repeat_stimuli and args.rmc:
            raise ValueError("--repeat-stimuli applies to --synthetic priors (RMC stimuli are binary and repeat anyway)")
        sampler = PriorSampler(prior, args.max_steps, device, repeat_stimuli=args.repeat_stimuli,
                               repeat_until=args.repeat_until)
        val = prior_validation(sampler, args)
        warmup = {"repeat_stimuli": args.repeat_stimuli, "repeat_until": args.repeat_until} if args.repeat_stimuli else {}
        return sampler, val, args.num_dims, {"prior": name, "corpus": None, **warmup}
    paths = corpus_paths(args.env_name, args.env_dir)
    # Resampling to --max-steps trials shortens long tasks too, so none needs dropping for its length.
    tasks = load_corpus(paths, num_dims=args.num_dims, max_steps=None if args.sample_to_match_max_steps else args.max_steps)
    train_set, val_set, _, provenance = split_corpus(tasks, paths, args.split_seed)
    resample = args.max_steps if args.sample_to_match_max_steps else None
    sampler = CorpusSampler(train_set.to(device), shuffle_trials=args.shuffle, shuffle_features=args.shuffle_features,
                            flip_labels=True, resample_to=resample)
    return sampler, heldout_episode(val_set), tasks.num_dims, {"prior": "ermi", **provenance}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--env-name", nargs="+", default=list(DEFAULT_CORPUS),
                        help="corpus file(s): paths, or file stems under --env-dir; several files are pooled")
    parser.add_argument("--split-seed", type=int, default=0, help="seed of the 80/10/10 train/val/test task split")
    parser.add_argument("--env-dir", default=str(DOMAIN / "data" / "generated_tasks"))
    parser.add_argument("--num-dims", type=int, default=None,
                        help="features: required to match a corpus when given (default: the corpus's own; 3 for priors)")
    parser.add_argument("--synthetic", action="store_true", help="train on the linear prior (MI)")
    parser.add_argument("--nonlinear", action="store_true", help="with --synthetic: random-MLP prior (PFN)")
    parser.add_argument("--rmc", action="store_true", help="train on the rational-model prior (RMC)")
    parser.add_argument("--shuffle", action="store_true", help="shuffle trial order per task")
    parser.add_argument("--shuffle-features", action="store_true", help="permute feature order per task")
    parser.add_argument("--sample-to-match-max-steps", action="store_true",
                        help="resample each task's trials with replacement to exactly --max-steps (needs --shuffle)")
    parser.add_argument("--repeat-stimuli", type=int, default=None, metavar="K",
                        help="synthetic priors: for the first --repeat-until steps, each task repeats K distinct stimuli "
                             "(gets the network off the in-context-learning plateau; see PriorSampler)")
    parser.add_argument("--repeat-until", type=int, default=1000, help="last step of the --repeat-stimuli warm-up")
    add_training_args(parser)
    args = parser.parse_args(argv)

    run_name = "synthetic" if args.synthetic or args.rmc else "+".join(Path(n).name.removesuffix(".csv") for n in args.env_name)
    run_training(parser, args, build_data, DOMAIN, run_name=run_name, shuffle=args.shuffle,
                 shuffle_features=args.shuffle_features)


if __name__ == "__main__":
    main()
