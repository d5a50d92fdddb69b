"""Time to fit every decision-making model to all 102 participants of Binz et al. (2022): the study's six baselines
(sequential probit learners, one beta each) and the shipped weights-head meta-learners (MI-DM of each experiment's
condition and ERMI-DM, averaged over which option is A). Target: under 2 minutes on 2 cores in all.

    python benchmarks/bench_decisionmaking.py
"""
import time

from decisionmaking.experiments import EXPERIMENTS
from decisionmaking.fit_humans import default_models, fit_experiment


def main():
    print(f"{'experiment':12s} {'participants':>12s} {'models':>7s} {'seconds':>8s}")
    total, started = 0, time.perf_counter()
    for number, experiment in EXPERIMENTS.items():
        t0 = time.perf_counter()
        results = fit_experiment(number, default_models(experiment.condition))
        participants = len(next(iter(results.values())))
        total += participants
        print(f"{number:<12d} {participants:12d} {len(results):7d} {time.perf_counter() - t0:8.1f}")
    print(f"{'all':12s} {total:12d} {'':7s} {time.perf_counter() - started:8.1f}")


if __name__ == "__main__":
    main()
