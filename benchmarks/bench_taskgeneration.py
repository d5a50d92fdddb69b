"""Offline task generation with the shipped SmolLM2-135M: free text (the reference's way) against decoding under
the task grammar (xgrammar), on the same prompts, seeds and batches. Reports output tokens/s, tasks/min (asked
and usable) and why tasks and rows were rejected, per mode. Both modes get the same four hand-written,
plausible experiments, so neither depends on what stage A happened to produce.

    python benchmarks/bench_taskgeneration.py --tasks 16 --rows 15 --batch-size 8
"""
import argparse
import time

from ermi.llm import LocalBackend
from taskgeneration.parse_generated_tasks import build_corpus, format_report
from taskgeneration.prompts import task_prompt
from taskgeneration.structure import task_structure

EXPERIMENTS = [(["weight", "sweetness", "diameter"], ["apple", "pear"]),
               (["wingspan", "body mass", "beak length"], ["eagle", "hawk"]),
               (["height", "trunk width", "leaf size"], ["oak", "maple"]),
               (["price", "mileage", "engine size"], ["sedan", "truck"])]


def run(backend, labels, rows, max_tokens, constrained, seed):
    prompts = [task_prompt("categorisation", lab, rows) for lab in labels]
    structures = [task_structure("categorisation", lab, rows) for lab in labels] if constrained else None
    started = time.perf_counter()
    replies = backend.generate(prompts, max_tokens=max_tokens, seed=seed, structures=structures)
    seconds = time.perf_counter() - started
    records = [{"key": i, "task_id": i, "labels": lab, **r.as_dict()} for i, (lab, r) in enumerate(zip(labels, replies))]
    _, report = build_corpus(records, "categorisation", 3, min_rows=min(10, rows))
    tokens = sum(r.usage["output_tokens"] for r in replies)
    return {"seconds": seconds, "tokens": tokens, "report": report}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--tasks", type=int, default=16)
    p.add_argument("--rows", type=int, default=15)
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--max-tokens", type=int, default=None, help="per reply (default 40 per row)")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    backend = LocalBackend(device="cpu", batch_size=args.batch_size)
    labels = [{"feature_names": f, "category_names": c} for f, c in
              (EXPERIMENTS[i % len(EXPERIMENTS)] for i in range(args.tasks))]
    max_tokens = args.max_tokens or 40 * args.rows
    backend.generate(["warm-up"], max_tokens=2, structures=[task_structure("categorisation", labels[0], 2)])
    results = {mode: run(backend, labels, args.rows, max_tokens, mode == "grammar", args.seed)
               for mode in ("free text", "grammar")}
    print(f"SmolLM2-135M, {args.tasks} tasks x {args.rows} rows, batch {args.batch_size}, max {max_tokens} tokens/reply")
    print(f"{'mode':<10} {'seconds':>8} {'tokens':>7} {'tok/s':>6} {'tasks/min':>9} {'usable':>6} {'usable/min':>10}")
    for mode, r in results.items():
        usable = r["report"]["tasks_accepted"]
        print(f"{mode:<10} {r['seconds']:8.1f} {r['tokens']:7d} {r['tokens'] / r['seconds']:6.1f} "
              f"{60 * args.tasks / r['seconds']:9.1f} {usable / args.tasks:6.0%} {60 * usable / r['seconds']:10.1f}")
    for mode, r in results.items():
        print(f"\n{mode}:\n{format_report(r['report'])}")


if __name__ == "__main__":
    main()
