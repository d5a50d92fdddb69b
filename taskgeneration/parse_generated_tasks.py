"""Stage C: raw LLM replies (JSONL) -> one pooled, validated task corpus CSV.

Every numbered line of a reply is a candidate row; prose around the rows is ignored. A row is kept only if it
has exactly D numbers and a usable target (a known category label, or a number); every rejected row and task is
counted by reason, so a weak or truncated reply never crashes a run and its cost is visible. The corpus has the
columns of DESIGN §2: ``task_id, trial_id, input, target`` plus the names the task was generated from.
Decision-making rows are options (input = cue values, target = criterion), the format of the published Llama-3
corpus; the trainer turns a task's options into paired comparisons with the reference's converter
(decisionmaking/problems.py: z-scored cues, row i against row i + N/2), so generated and published corpora give
problems the same way.

    python taskgeneration/parse_generated_tasks.py --domain categorisation --num-dim 3 --num-data 100
"""
import argparse
import json
import math
import re
import sys
import time
from collections import Counter
from pathlib import Path

import pandas as pd

from ermi.paths import domain_dir, ensure_parent, repo_relative, write_sidecar
from taskgeneration.common import latest_by_key, read_jsonl, run_tag
from taskgeneration.prompts import DOMAINS
from taskgeneration.structure import reply_text

ROW = re.compile(r"^\s*(?:\*\*)?(?:\d+\s*[:)]|\d+\.(?=\s)|[-*•](?=\s))(?:\*\*)?\s*(.*\S)\s*$")
NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def parse_number(text):
    """A plain decimal number, else None (units, words, thousands separators and nan/inf are not numbers)."""
    text = text.strip().strip("*")
    return float(text) if NUMBER.match(text) and math.isfinite(float(text)) else None


def clean_label(text):
    return text.strip().strip("*\"'`").rstrip(".;").strip()


def parse_row(body, domain, num_dim, categories=None):
    """One row's text after its number -> (values, target) or (None, reason)."""
    fields = [f.strip() for f in body.split(",")]
    if len(fields) != num_dim + 1:
        return None, f"{len(fields) - 1} values instead of {num_dim}" if len(fields) > 1 else "no comma-separated values"
    values = [parse_number(f) for f in fields[:num_dim]]
    if any(v is None for v in values):
        return None, "non-numeric feature value"
    if domain != "categorisation":
        target = parse_number(fields[-1])
        return ((values, target), None) if target is not None else (None, "non-numeric target")
    label = clean_label(fields[-1])
    if not label:
        return None, "missing label"
    if parse_number(label) is not None:
        return None, "numeric label"
    if categories is not None:
        canonical = {c.lower(): c for c in categories}
        if label.lower() not in canonical:
            return None, "label not one of the two categories"
        label = canonical[label.lower()]
    return (values, label), None


def parse_reply(text, domain, num_dim, categories=None, truncated=False):
    """All rows of one reply -> (rows, per-reason row rejections). A reply cut by max_tokens loses its last row."""
    rows, rejected = [], Counter()
    lines = [m.group(1) for m in map(ROW.match, text.splitlines()) if m]
    if truncated and lines:
        lines = lines[:-1]
        rejected["last row cut by max_tokens"] += 1
    for body in lines:
        row, reason = parse_row(body, domain, num_dim, categories)
        if row is None:
            rejected[reason] += 1
        else:
            rows.append(row)
    return rows, rejected


def check_task(rows, domain, min_rows):
    """None if the task is usable, else the reason it is not."""
    if len(rows) < min_rows:
        return f"fewer than {min_rows} valid rows"
    targets = [t for _, t in rows]
    if domain == "categorisation":
        n = len(set(targets))
        return None if n == 2 else ("one label only" if n == 1 else f"{n} labels instead of 2")
    if len(set(targets)) == 1:
        return "constant target"
    return None


def task_rows(record, domain, num_dim, min_rows):
    """One raw record -> (corpus rows, row rejections, task rejection reason or None)."""
    if record.get("error"):
        return [], Counter(), "LLM error"
    labels = record.get("labels") or {}
    rows, rejected = parse_reply(reply_text(record), domain, num_dim, labels.get("category_names"),
                                 record.get("stop_reason") == "max_tokens")
    reason = check_task(rows, domain, min_rows)
    return (rows if reason is None else []), rejected, reason


def build_corpus(records, domain, num_dim, min_rows=10):
    """Latest good record per task -> (corpus DataFrame, report dict)."""
    tasks, rows_rejected, tasks_rejected, frames = 0, Counter(), Counter(), []
    rows_kept = 0
    for key, record in sorted(latest_by_key(records).items(), key=lambda kv: kv[1]["task_id"]):
        tasks += 1
        rows, rejected, reason = task_rows(record, domain, num_dim, min_rows)
        rows_rejected.update(rejected)
        if reason is not None:
            tasks_rejected[reason] += 1
            continue
        rows_kept += len(rows)
        labels = record.get("labels") or {}
        frame = {"task_id": record["task_id"], "trial_id": range(len(rows)),
                 "input": [json.dumps(x) for x, _ in rows], "target": [t for _, t in rows],
                 "feature_names": json.dumps(labels.get("feature_names"))}
        for name in ("category_names", "target_name", "option"):
            if name in labels:
                frame[name] = json.dumps(labels[name]) if isinstance(labels[name], list) else labels[name]
        frames.append(pd.DataFrame(frame))
    corpus = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["task_id", "trial_id", "input", "target"])
    report = {"tasks": tasks, "tasks_accepted": tasks - sum(tasks_rejected.values()),
              "tasks_rejected": dict(tasks_rejected.most_common()), "rows_accepted": rows_kept,
              "rows_rejected": dict(rows_rejected.most_common())}
    return corpus, report


def format_report(report, bad_lines=0):
    lines = [f"tasks: {report['tasks']} read, {report['tasks_accepted']} accepted, "
             f"{report['tasks'] - report['tasks_accepted']} rejected"]
    lines += [f"  task rejected  {n:6d}  {reason}" for reason, n in report["tasks_rejected"].items()]
    lines += [f"rows: {report['rows_accepted']} accepted, {sum(report['rows_rejected'].values())} rejected"]
    lines += [f"  row rejected   {n:6d}  {reason}" for reason, n in report["rows_rejected"].items()]
    if bad_lines:
        lines.append(f"raw lines unreadable (cut by a crash): {bad_lines}")
    return "\n".join(lines)


def default_raw_glob(domain, backend, num_dim, num_data, version):
    return f"{run_tag(backend)}_tasks_dim{num_dim}_data{num_data}_pversion{version}_procid*.jsonl"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--domain", default="categorisation", choices=DOMAINS)
    p.add_argument("--num-dim", "--dims", dest="num_dim", type=int, default=3)
    p.add_argument("--num-data", type=int, default=100, help="rows asked for per task (part of the raw file names)")
    p.add_argument("--prompt-version", "--prompt_version", dest="prompt_version", type=int, default=5)
    p.add_argument("--backend", "--run-gpt", "--gpt", dest="backend", default="claude",
                   help="whose raw files to read: claude/anthropic or local")
    p.add_argument("--raw", nargs="*", default=None,
                   help="raw JSONL files (default: every shard under {domain}/data/raw/ for these settings)")
    p.add_argument("--min-rows", type=int, default=10, help="fewest valid rows (options) a task may keep")
    p.add_argument("--output", default=None,
                   help="corpus CSV (default {domain}/data/generated_tasks/{tag}_generated_tasks_dim{D}_data{N}_pversion{v}.csv)")
    args = p.parse_args(argv)
    started = time.time()
    raw = [Path(r) for r in args.raw] if args.raw else sorted(
        (domain_dir(args.domain) / "data" / "raw").glob(default_raw_glob(args.domain, args.backend, args.num_dim,
                                                                            args.num_data, args.prompt_version)))
    missing = [str(r) for r in raw if not r.is_file()]
    if not raw or missing:
        sys.exit(f"parse_generated_tasks: no raw file {', '.join(missing) if missing else 'matches these settings'} "
                 f"(run generate_tasks.py first, or pass --raw)")
    records, bad = read_jsonl(raw)
    corpus, report = build_corpus(records, args.domain, args.num_dim, args.min_rows)
    output = Path(args.output) if args.output else domain_dir(args.domain) / "data" / "generated_tasks" / \
        f"{run_tag(args.backend)}_generated_tasks_dim{args.num_dim}_data{args.num_data}_pversion{args.prompt_version}.csv"
    corpus.to_csv(ensure_parent(output), index=False)
    write_sidecar(output, started, raw_files=[repo_relative(r) for r in raw], unreadable_raw_lines=bad, **report)
    print(format_report(report, bad))
    print(f"wrote {output} ({len(corpus)} rows, {corpus['task_id'].nunique() if len(corpus) else 0} tasks)")


if __name__ == "__main__":
    main()
