"""Time to fit a meta-learner (beta per participant) to every Badham et al. (2017) participant, with the choice
probability averaged over the whole coding group (96 codings of three binary features; ermi.codings).

The network runs once per participant, every coding in the same batches; the fit then works on cached logits.
Prints the forward pass (tokens, tokens/s) and the fit (beta; beta + epsilon) separately.

    python benchmarks/bench_fitting.py [--model-name ermi_categorisation_dim3]
"""
import argparse
import time

from categorisation.experiments import badham_path, load_badham2017
from ermi.codings import coding_group
from ermi.fitting import cached_logits, fit_participants
from ermi.model import load_model
from ermi.paths import resolve_model


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model-name", default="ermi_categorisation_dim3")
    args = parser.parse_args()
    started = time.perf_counter()
    data = load_badham2017(badham_path())
    model = load_model(resolve_model(args.model_name))
    loaded = time.perf_counter()
    codings = coding_group(data.x.shape[-1])
    logits = cached_logits(model, data, codings)
    forward = time.perf_counter()
    fit_participants(logits, data)
    beta = time.perf_counter()
    fit_participants(logits, data, epsilon=True)
    both = time.perf_counter()
    tokens = int(data.mask.sum()) * len(codings)
    print(f"{len(data.participants())} participants, {int(data.mask.sum())} trials, {len(codings)} codings, "
          f"model {resolve_model(args.model_name).name}")
    print(f"{'stage':32s} {'seconds':>8s}")
    print(f"{'load data + weights':32s} {loaded - started:8.1f}")
    print(f"{'forward pass':32s} {forward - loaded:8.1f}   ({tokens:,} tokens, {tokens / (forward - loaded):,.0f} tokens/s)")
    print(f"{'fit beta':32s} {beta - forward:8.1f}")
    print(f"{'fit beta + epsilon':32s} {both - beta:8.1f}")
    print(f"{'total, beta only (fit_humans)':32s} {beta - started:8.1f}")


if __name__ == "__main__":
    main()
