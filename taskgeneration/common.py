"""What both generation stages share: the append-only raw log and the resumable job runner.

Every reply is one JSON line, written and fsync'ed the moment it arrives, so ``kill -9`` loses at most the
requests in flight. A rerun reads the log, skips every key that already has a reply without error, and asks
only for the rest. Parsing reads the same log, so it can be redone at any time without calling the LLM.
"""
import hashlib
import json
import os
import time
from pathlib import Path

from tqdm import tqdm

from ermi.paths import ensure_parent


def run_tag(backend):
    """Short file-name tag for a backend: the seed's ``claude`` for the Messages API, ``local`` otherwise."""
    return "claude" if backend in ("anthropic", "claude") else "local"


def prompt_sha1(prompt):
    return hashlib.sha1(prompt.encode()).hexdigest()[:12]


def read_jsonl(paths):
    """All records of one or more raw logs, and the number of unreadable lines (a write cut by a crash)."""
    records, bad = [], 0
    for path in paths:
        if not Path(path).is_file():
            continue
        with open(path) as f:
            for line in f:
                try:
                    records.append(json.loads(line))
                except json.JSONDecodeError:
                    bad += 1
    return records, bad


def end_partial_line(path):
    """A crash mid-write can leave a partial last line; end it, so the next record starts on a line of its own."""
    with open(path, "ab+") as f:
        size = f.seek(0, os.SEEK_END)
        if size:
            f.seek(size - 1)
            if f.read(1) != b"\n":
                f.write(b"\n")


def latest_by_key(records):
    """key -> the last record without error (else the last record): reruns append, they never rewrite."""
    best = {}
    for record in records:
        key = record["key"]
        if key not in best or record.get("error") is None or best[key].get("error") is not None:
            best[key] = record
    return best


def cut_under_grammar(record):
    """A reply decoded under a grammar that still hit max_tokens is unfinished (a run made before the token
    budget covered the grammar's longest reply)."""
    return record.get("stop_reason") == "max_tokens" and str(record.get("constrained") or "").startswith("grammar")


def run_jobs(backend, jobs, raw_path, args, judge=None, desc="generating", structure=None, redo_cut=False):
    """Ask the LLM for every job whose key has no good reply in ``raw_path`` yet; append each reply as it arrives.

    jobs: dicts with ``key`` and ``prompt`` plus any metadata to keep (task_id, labels, prompt_id ...).
    judge(record) -> bool says whether a reply is usable, for the live rejection rate.
    structure(job) -> ermi.llm.Structure: the form to enforce (left out with ``--free-text``).
    redo_cut: also ask again for replies cut under a grammar (tasks: a cut task loses its last rows, maybe a
    label; labels keep theirs, as a redone call would renumber every later task).
    Returns the new records.
    """
    raw_path = ensure_parent(raw_path)
    old, bad = read_jsonl([raw_path])
    done = {k for k, r in latest_by_key(old).items()
            if r.get("error") is None and not (redo_cut and cut_under_grammar(r))}
    todo = [job for job in jobs if job["key"] not in done]
    if bad:
        tqdm.write(f"{raw_path}: skipped {bad} unreadable line(s) (cut by an earlier crash); those tasks are redone")
    structures = None if structure is None or args.free_text else [structure(job) for job in todo]
    max_tokens = args.max_length
    if structures and backend.name == "local":  # the grammar ends every reply before this budget
        max_tokens = max(max_tokens, *(s.max_chars for s in structures))
    bar = tqdm(total=len(jobs), initial=len(jobs) - len(todo), desc=desc, unit="task", dynamic_ncols=True)
    started, stats, new = time.time(), {"tokens": 0, "rejected": 0, "errors": 0, "n": 0}, []
    end_partial_line(raw_path)
    with open(raw_path, "a") as f:
        def on_reply(i, reply):
            job = todo[i]
            record = {**job, "prompt_sha1": prompt_sha1(job["prompt"]), "backend": backend.name,
                      "seed": reply.seed if reply.seed is not None else args.seed, "temperature": args.temperature,
                      "max_tokens": max_tokens, "time": time.strftime("%Y-%m-%dT%H:%M:%S"), **reply.as_dict()}
            f.write(json.dumps(record) + "\n")
            f.flush()
            os.fsync(f.fileno())
            new.append(record)
            stats["n"] += 1
            stats["tokens"] += reply.usage.get("output_tokens", 0)
            stats["errors"] += reply.error is not None
            stats["rejected"] += reply.error is not None or (judge is not None and not judge(record))
            bar.update(1)
            bar.set_postfix(rejected=f"{stats['rejected'] / stats['n']:.0%}", errors=stats["errors"],
                            tok_s=f"{stats['tokens'] / max(time.time() - started, 1e-9):.0f}")

        if todo:
            backend.generate([job["prompt"] for job in todo], max_tokens=max_tokens,
                             temperature=args.temperature, seed=args.seed, on_reply=on_reply, structures=structures)
    bar.close()
    return new
