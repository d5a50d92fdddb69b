"""Stage B: one LLM call per task for its numbered data rows, from generated labels (or generic names).

Tasks are split into ``--num-procs`` contiguous shards; shard ``--proc-id`` (a SLURM array index) appends to
its own raw file, so shards never share a file. Reruns skip tasks that already have a good reply.

    python taskgeneration/generate_tasks.py --num-dim 4 --num-data 100 --use-generated-tasklabels --proc-id 0 --num-procs 10
"""
import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from ermi.llm import LLMError, add_backend_args, backend_from_args
from ermi.paths import domain_dir
from taskgeneration.common import run_jobs, run_tag
from taskgeneration.parse_generated_tasks import task_rows
from taskgeneration.prompts import DOMAINS, default_labels, task_prompt
from taskgeneration.structure import task_structure

LIST_COLUMNS = ("feature_names", "category_names", "directions")


def load_tasklabels(path, domain, num_dim):
    """Labels CSV from stage A -> {task_id: labels}; a bad file or row stops with file:row: problem."""
    try:
        table = pd.read_csv(path, keep_default_na=False)
    except FileNotFoundError:
        sys.exit(f"generate_tasks: {path}: no such labels file (run generate_tasklabels.py --pool first)")
    needed = ["task_id", "feature_names"] + (["category_names"] if domain == "categorisation" else ["target_name"])
    missing = [c for c in needed if c not in table.columns]
    if missing:
        sys.exit(f"generate_tasks: {path}:1: missing column(s) {', '.join(missing)}")
    labels = {}
    for i, row in enumerate(table.to_dict("records")):
        try:
            entry = {k: json.loads(v) if k in LIST_COLUMNS and v != "" else v for k, v in row.items() if k != "task_id"}
        except json.JSONDecodeError:
            sys.exit(f"generate_tasks: {path}:{i + 2}: a name list is not valid JSON")
        if len(entry["feature_names"]) != num_dim:
            sys.exit(f"generate_tasks: {path}:{i + 2}: {len(entry['feature_names'])} feature names, expected {num_dim}")
        categories = [str(c).lower() for c in entry.get("category_names") or []]
        if domain == "categorisation" and (len(categories) != 2 or categories[0] == categories[1]):
            sys.exit(f"generate_tasks: {path}:{i + 2}: needs two different category names, got {categories}")
        labels[int(row["task_id"])] = entry
    return labels


def shard(task_ids, proc_id, num_procs):
    """Contiguous block ``proc_id`` of ``num_procs`` (SLURM array index -> task ids)."""
    if not 0 <= proc_id < num_procs:
        sys.exit(f"generate_tasks: --proc-id {proc_id} is not in [0, --num-procs={num_procs})")
    return [int(t) for t in np.array_split(np.asarray(task_ids, dtype=int), num_procs)[proc_id]]


def raw_path(args):
    return Path(args.raw_dir or domain_dir(args.domain) / "data" / "raw") / (
        f"{run_tag(args.backend)}_tasks_dim{args.num_dim}_data{args.num_data}_pversion{args.prompt_version}"
        f"_procid{args.proc_id}.jsonl")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--domain", default="categorisation", choices=DOMAINS)
    p.add_argument("--num-dim", type=int, default=3)
    p.add_argument("--num-data", type=int, default=100, help="rows asked for per task")
    p.add_argument("--num-tasks", type=int, default=None,
                   help="tasks in all (default: every generated label set, else 100)")
    p.add_argument("--start-task-id", type=int, default=0, help="first task id")
    p.add_argument("--proc-id", type=int, default=0, help="this shard (e.g. $SLURM_ARRAY_TASK_ID)")
    p.add_argument("--num-procs", type=int, default=1, help="shards in all")
    p.add_argument("--prompt-version", type=int, default=5)
    p.add_argument("--use-generated-tasklabels", action="store_true", help="names from stage A's labels CSV")
    p.add_argument("--path-tasklabels", default=None, help="folder of labels CSVs (default {domain}/data/tasklabels)")
    p.add_argument("--file-name-tasklabels", default=None,
                   help="labels CSV name (default {tag}_generated_tasklabels_dim{D}_pversion{v}.csv)")
    p.add_argument("--raw-dir", default=None, help="where raw JSONL goes (default {domain}/data/raw)")
    p.add_argument("--min-rows", type=int, default=10, help="for the live rejection rate only")
    add_backend_args(p, max_tokens=4000)
    args = p.parse_args(argv)
    if args.domain == "categorisation" and args.num_data < 2:
        p.error("--num-data must be at least 2 in categorisation (one row per category)")

    if args.use_generated_tasklabels:
        folder = Path(args.path_tasklabels or domain_dir(args.domain) / "data" / "tasklabels")
        name = args.file_name_tasklabels or \
            f"{run_tag(args.backend)}_generated_tasklabels_dim{args.num_dim}_pversion{args.prompt_version}.csv"
        labels = load_tasklabels(folder / name, args.domain, args.num_dim)
        ids = [t for t in sorted(labels) if t >= args.start_task_id]
        ids = ids[: args.num_tasks] if args.num_tasks is not None else ids
    else:
        ids = list(range(args.start_task_id, args.start_task_id + (args.num_tasks or 100)))
        labels = {t: default_labels(args.domain, args.num_dim) for t in ids}
    jobs = [{"key": t, "task_id": t, "stage": "tasks", "domain": args.domain, "num_dim": args.num_dim,
             "labels": labels[t], "prompt_id": f"{args.domain}/data/v{args.prompt_version}",
             "prompt": task_prompt(args.domain, labels[t], args.num_data, args.prompt_version)}
            for t in shard(ids, args.proc_id, args.num_procs)]
    try:
        backend = backend_from_args(args)
    except LLMError as err:
        sys.exit(f"generate_tasks: {err}")
    judge = lambda r: task_rows(r, args.domain, args.num_dim, args.min_rows)[2] is None  # noqa: E731
    structure = lambda job: task_structure(args.domain, job["labels"], args.num_data)  # noqa: E731
    run_jobs(backend, jobs, raw_path(args), args, judge, desc=f"tasks (shard {args.proc_id}/{args.num_procs})",
             structure=structure, redo_cut=True)
    print(f"replies in {raw_path(args)}; parse them with parse_generated_tasks.py")


if __name__ == "__main__":
    main()
