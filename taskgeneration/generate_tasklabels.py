"""Stage A: ask the LLM for the names behind many experiments (feature dimensions, categories / output /
criterion), ``--num-tasks`` per call and ``--num-runs`` calls; then ``--pool`` parses every reply into one
labels CSV, keeping lines with exactly the right number of names.

    python taskgeneration/generate_tasklabels.py --num-runs 100 --num-tasks 250 --num-dim 4 --run-gpt claude
    python taskgeneration/generate_tasklabels.py --num-dim 4 --run-gpt claude --pool
"""
import argparse
import json
import re
import sys
import time
from collections import Counter
from pathlib import Path

import pandas as pd

from ermi.llm import LLMError, add_backend_args, backend_from_args
from ermi.paths import domain_dir, ensure_parent, repo_relative, write_sidecar
from taskgeneration.common import latest_by_key, read_jsonl, run_jobs, run_tag
from taskgeneration.prompts import CONDITIONS, DOMAINS, tasklabel_prompt
from taskgeneration.structure import reply_text, tasklabel_structure

LINE = re.compile(r"^\s*(?:\d+\s*[.:)]|[-*•])\s*(.*\S)\s*$")
DIRECTION = re.compile(r"^(.*?)\s*\(([+-])\)$")


def clean_name(text):
    return text.strip().strip("*\"'`").rstrip(".;").strip()


def parse_label_line(body, domain, num_dim, condition="none"):
    """One numbered line -> (labels dict, None) or (None, reason)."""
    names = [clean_name(n) for n in body.split(",")]
    expected = num_dim + (1 if domain == "functionlearning" else 2)
    if len(names) != expected:
        return None, f"{len(names)} names instead of {expected}"
    if not all(names):
        return None, "empty name"
    if domain == "categorisation":
        if names[-2].lower() == names[-1].lower():
            return None, "the same category twice"
        return {"feature_names": names[:-2], "category_names": names[-2:]}, None
    if domain == "functionlearning":
        return {"feature_names": names[:-1], "target_name": names[-1]}, None
    labels = {"option": names[0], "feature_names": names[1:-1], "target_name": names[-1], "condition": condition}
    if condition == "direction":
        matches = [DIRECTION.match(n) for n in labels["feature_names"]]
        if not all(matches):
            return None, "cue without a (+) or (-) direction"
        labels["feature_names"] = [m.group(1) for m in matches]
        labels["directions"] = [1 if m.group(2) == "+" else -1 for m in matches]
    return labels, None


def parse_tasklabels(text, domain, num_dim, condition="none"):
    labels, rejected = [], Counter()
    for match in map(LINE.match, text.splitlines()):
        if match:
            parsed, reason = parse_label_line(match.group(1), domain, num_dim, condition)
            if parsed is None:
                rejected[reason] += 1
            else:
                labels.append(parsed)
    return labels, rejected


def raw_path(args):
    condition = f"_{args.condition}" if args.condition != "none" else ""
    return Path(args.raw_dir or domain_dir(args.domain) / "data" / "raw") / \
        f"{run_tag(args.backend)}_tasklabels_dim{args.num_dim}{condition}_pversion{args.prompt_version}.jsonl"


def labels_path(args):
    if args.output:
        return Path(args.output)
    condition = f"_{args.condition}" if args.condition != "none" else ""
    return domain_dir(args.domain) / "data" / "tasklabels" / \
        f"{run_tag(args.backend)}_generated_tasklabels_dim{args.num_dim}{condition}_pversion{args.prompt_version}.csv"


def pool(args):
    """Every run's reply -> one labels CSV (task_id, feature_names, ... as JSON where lists)."""
    started = time.time()
    records, bad = read_jsonl([raw_path(args)])
    if not records:
        sys.exit(f"generate_tasklabels: {raw_path(args)}: no replies to pool (run without --pool first)")
    rows, rejected, errors = [], Counter(), 0
    for _, record in sorted(latest_by_key(records).items()):
        if record.get("error"):
            errors += 1
            continue
        labels, why = parse_tasklabels(reply_text(record), args.domain, args.num_dim, args.condition)
        rows += labels
        rejected.update(why)
    table = pd.DataFrame([{k: json.dumps(v) if isinstance(v, list) else v for k, v in r.items()} for r in rows])
    table.insert(0, "task_id", range(len(table)))
    duplicates = int(table.drop(columns="task_id").duplicated().sum()) if len(table) else 0
    output = ensure_parent(labels_path(args))
    table.to_csv(output, index=False)
    write_sidecar(output, started, raw_file=repo_relative(raw_path(args)), labels=len(table), duplicates=duplicates,
                  lines_rejected=dict(rejected), failed_runs=errors, unreadable_raw_lines=bad)
    print(f"{len(table)} label sets kept ({duplicates} exact duplicates), {sum(rejected.values())} lines rejected, "
          f"{errors} failed run(s)")
    for reason, n in rejected.most_common():
        print(f"  line rejected {n:6d}  {reason}")
    print(f"wrote {output}")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--domain", default="categorisation", choices=DOMAINS)
    p.add_argument("--num-runs", type=int, default=100, help="LLM calls")
    p.add_argument("--num-tasks", type=int, default=250, help="experiments asked for per call")
    p.add_argument("--num-dim", type=int, default=3, help="feature dimensions (cues, inputs) per experiment")
    p.add_argument("--prompt-version", type=int, default=5)
    p.add_argument("--condition", default="none", choices=CONDITIONS["decisionmaking"],
                   help="decision making: also ask for the cues' importance ranking or effect direction")
    p.add_argument("--pool", action="store_true", help="parse every reply into the labels CSV (no LLM calls)")
    p.add_argument("--output", default=None, help="labels CSV (default {domain}/data/tasklabels/...)")
    p.add_argument("--raw-dir", default=None, help="where raw JSONL goes (default {domain}/data/raw)")
    add_backend_args(p, max_tokens=10000)
    args = p.parse_args(argv)
    if args.condition != "none" and args.domain != "decisionmaking":
        p.error("--condition applies to --domain decisionmaking only")
    if args.pool:
        return pool(args)
    prompt = tasklabel_prompt(args.domain, args.num_dim, args.num_tasks, args.prompt_version, args.condition)
    jobs = [{"key": run, "run": run, "stage": "tasklabels", "domain": args.domain, "num_dim": args.num_dim,
             "prompt_id": f"{args.domain}/tasklabels/v{args.prompt_version}/{args.condition}", "prompt": prompt}
            for run in range(args.num_runs)]
    try:
        backend = backend_from_args(args)
    except LLMError as err:
        sys.exit(f"generate_tasklabels: {err}")
    judge = lambda r: bool(parse_tasklabels(reply_text(r), args.domain, args.num_dim, args.condition)[0])  # noqa: E731
    structure = tasklabel_structure(args.domain, args.num_dim, args.num_tasks, args.condition)
    run_jobs(backend, jobs, raw_path(args), args, judge, desc="task labels", structure=lambda job: structure)
    print(f"replies in {raw_path(args)}; pool them with --pool")


if __name__ == "__main__":
    main()
