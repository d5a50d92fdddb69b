"""Meta-train the function-learning transformer with a Gaussian head (a mean and a log-variance per trial, Gaussian
NLL): ERMI-FL on an LLM-generated corpus of 1-D functions, MI-FL on the synthetic prior (function families with the
reference's prior weights; --prior gp-rbf | gp-linear | gp-rbf+linear for Gaussian-process draws). Inputs and
targets are scaled to [0, 1] per task. The model card compares the held-out NLL and MSE with a GP baseline on the
same validation tasks.

    python functionlearning/train_transformer.py --output trained_models/ermi_functionlearning_dim1.pt
    python functionlearning/train_transformer.py --synthetic --output trained_models/mi_functionlearning_dim1.pt
"""
import argparse


from ermi.episodes import CorpusSampler, FunctionPrior, GPPrior, PriorSampler, heldout_episode, load_corpus
from ermi.paths import domain_dir
from ermi.training import add_training_args, corpus_paths, prior_validation, run_training, split_corpus
from functionlearning.baselines.regression import gaussian_nll, gp_predictions

DOMAIN = domain_dir("functionlearning")
PRIOR_CHOICES = ("functions", "gp-rbf", "gp-linear", "gp-rbf+linear")


def gp_baseline(ep, kernel="rbf+linear") -> dict:
    """NLL and MSE per trial of online GP regression on the same episode (the card's reference numbers)."""
    x, y, mask = ep.tokens[..., 0], ep.targets.double(), ep.mask
    mean, var = gp_predictions(x, y, kernel)
    return {"gp_kernel": kernel, "gp_val_nll": float(gaussian_nll(mean, var, y)[mask].mean()),
            "gp_val_mse": float(((mean - y) ** 2)[mask].mean())}


def build_data(args, device):
    """(sampler, validation Episode, num_dims, provenance) for a prior or a corpus."""
    if args.synthetic:
        prior = FunctionPrior() if args.prior == "functions" else GPPrior(kernel=args.prior.removeprefix("gp-"))
        sampler = PriorSampler(prior, args.max_steps, device, scale_targets=True)
        val = prior_validation(sampler, args)
        provenance = {"prior": "mi", "function_prior": args.prior, "corpus": None}
    else:
        paths = corpus_paths(args.env_name, args.env_dir)
        tasks = load_corpus(paths, num_dims=1, max_steps=args.max_steps, binary=False)
        train_set, val_set, _, corpus = split_corpus(tasks, paths, args.split_seed)
        sampler = CorpusSampler(train_set.to(device), shuffle_trials=True, flip_labels=False)
        val = heldout_episode(val_set)
        provenance = {"prior": "ermi", **corpus}
    return sampler, val, 1, {**provenance, **gp_baseline(val)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--synthetic", action="store_true", help="train on a synthetic prior (MI-FL)")
    parser.add_argument("--prior", choices=PRIOR_CHOICES, default="functions", help="with --synthetic")
    parser.add_argument("--env-name", nargs="+", default=["claude_functionlearning_dim1_first_tasks"],
                        help="corpus file(s): input = [x], target = y")
    parser.add_argument("--env-dir", default=str(DOMAIN / "data" / "generated_tasks"))
    parser.add_argument("--split-seed", type=int, default=0, help="seed of the 80/10/10 train/val/test task split")
    add_training_args(parser, num_episodes=20000, max_steps=40, batch_size=64)
    args = parser.parse_args(argv)
    if args.synthetic and args.max_steps == 40:
        args.max_steps = 20  # the synthetic tasks are as long as the corpus's usual ones
    run_name = f"synthetic_{args.prior}" if args.synthetic else \
        "+".join(n.split("/")[-1].removesuffix(".csv") for n in args.env_name)
    run_training(parser, args, build_data, DOMAIN, head="gaussian", run_name=run_name)


if __name__ == "__main__":
    main()
