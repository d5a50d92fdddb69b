"""Task generation: prompts, parsing (real corpus rows and adversarial text), resume after kill -9, the three
stages end to end through the real SDK and the local Messages-API server, and the synthetic corpora."""
import json
import os
import random
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from decisionmaking.problems import problems_from_options
from ermi.episodes import load_corpus
from taskgeneration import generate_synthetic_data, generate_tasklabels, generate_tasks, parse_generated_tasks
from taskgeneration.common import read_jsonl
from taskgeneration.generate_tasklabels import parse_tasklabels
from taskgeneration.parse_generated_tasks import build_corpus, check_task, parse_reply
from taskgeneration.prompts import DIMS, DOMAINS, default_labels, task_prompt, tasklabel_prompt

REPO = Path(__file__).resolve().parent.parent
REAL_CORPUS = REPO / "tests" / "fixtures" / "llama-3_dim3_first_tasks.csv"


def fake_llm(body):
    """A deterministic stand-in for the LLM that follows the prompt's instructions (seeded by the prompt)."""
    prompt = body["messages"][0]["content"]
    rng = random.Random(prompt)
    if "Please invent" in prompt:
        n, d = (int(re.search(p, prompt).group(1)) for p in (r"invent (\d+)", r"along (\d+) feature"))
        lines = [", ".join([f"feature{k}" for k in range(d)] + [f"cat{i}a", f"cat{i}b"]) for i in range(n)]
        return "Sure! Here they are:\n" + "\n".join(f"{i + 1}. {line}" for i, line in enumerate(lines))
    n, d = int(re.search(r"from 1 to (\d+)", prompt).group(1)), prompt.count("value of")
    a, b = re.search(r"categories: (.+?) or (.+?)\.", prompt).groups()
    rows = []
    for i in range(n):
        x = [round(rng.uniform(0, 10), 2) for _ in range(d)]
        rows.append(f"{i + 1}: {', '.join(map(str, x))}, {a if x[0] > 5 else b}")
    return "Here are the stimuli:\n\n" + "\n".join(rows) + "\n\nI hope this helps."


@pytest.mark.parametrize("domain", DOMAINS)
def test_prompts_render_for_every_dimension(domain):
    for d in DIMS[domain]:
        labels_prompt = tasklabel_prompt(domain, d, 250)
        assert "250 different experiments" in labels_prompt and f"{d}" in labels_prompt
        labels = default_labels(domain, d)
        prompt = task_prompt(domain, labels, 40)
        assert prompt.count("value of") == d  # the row template has exactly D slots
        assert "from 1 to 40" in prompt
        assert all(f in prompt for f in labels["feature_names"])
        assert "{" not in prompt and "{" not in labels_prompt  # every placeholder filled
    if domain == "categorisation":
        assert "a or b" in task_prompt(domain, default_labels(domain, 3), 10)
    if domain == "decisionmaking":
        assert "strongest first" in tasklabel_prompt(domain, 2, 5, condition="ranked")
        assert "(+)" in tasklabel_prompt(domain, 2, 5, condition="direction")
    with pytest.raises(ValueError, match="no prompt version 3"):
        tasklabel_prompt(domain, 2, 5, version=3)


def test_parser_reads_real_corpus_rows_back_exactly():
    """The published Llama-3 rows, written as numbered LLM lines, parse back to the same inputs and labels."""
    real = pd.read_csv(REAL_CORPUS)
    records = []
    for task_id, task in real.groupby("task_id"):
        lines = [f"{i + 1}: {', '.join(str(v) for v in json.loads(x))}, {t}"
                 for i, (x, t) in enumerate(zip(task["input"], task["target"]))]
        text = "Here is the data you asked for:\n" + "\n".join(lines) + "\nLet me know if you need more."
        rows, rejected = parse_reply(text, "categorisation", 3)
        assert not rejected and check_task(rows, "categorisation", 10) is None
        assert [x for x, _ in rows] == [json.loads(x) for x in task["input"]]
        assert [t for _, t in rows] == task["target"].tolist()
        labels = {"feature_names": ["f1", "f2", "f3"], "category_names": sorted(set(task["target"]))}
        records.append({"key": task_id, "task_id": task_id, "labels": labels, "text": text, "stop_reason": "end_turn"})
    corpus, report = build_corpus(records, "categorisation", 3)
    assert report["tasks_accepted"] == real["task_id"].nunique() == 2
    assert report["rows_accepted"] == len(real)
    assert corpus["input"].tolist() == real["input"].tolist() and corpus["target"].tolist() == real["target"].tolist()


def test_parser_rejects_adversarial_rows_by_reason():
    text = "\n".join([
        "Sure, here are some stimuli (values in cm):",
        "1: 1.5, 2.0, 3.0, apple",
        "2: 1.5, 2.0, apple",  # wrong D
        "3: 1.5, 2.0, 3.0, 4.0, apple",  # wrong D
        "4: 1.5, big, 3.0, pear",  # non-numeric
        "5: 1,500, 2.0, 3.0, pear",  # thousands separator -> wrong D
        "6: 1.5, 2.0, 3.0,",  # missing label
        "7: 1.5, 2.0, 3.0, banana",  # not one of the categories
        "8: 1.5, 2.0, 3.0, 7",  # numeric label
        "9: 12cm, 2.0, 3.0, pear",  # unit
        "10: 0.5, 2.0, 3.0, Pear.",  # case and full stop are fine
        "- 0.1, 0.2, 0.3, apple",  # bullet rows count too
        "Total: 11 rows. The categories are apple and pear.",  # prose: ignored
        "1.5, 2.0, 3.0, apple",  # a row with no number is not a row
        "12: 0.7, 0.8, nan, pear",
    ])
    rows, rejected = parse_reply(text, "categorisation", 3, ["apple", "pear"])
    assert rows == [([1.5, 2.0, 3.0], "apple"), ([0.5, 2.0, 3.0], "pear"), ([0.1, 0.2, 0.3], "apple")]
    assert rejected == Counter({"2 values instead of 3": 1, "4 values instead of 3": 2, "non-numeric feature value": 3,
                                "missing label": 1, "label not one of the two categories": 1, "numeric label": 1})
    rows, rejected = parse_reply(text, "categorisation", 3, ["apple", "pear"], truncated=True)
    assert len(rows) == 3 and rejected["last row cut by max_tokens"] == 1 and rejected["non-numeric feature value"] == 2


def test_task_checks_count_one_label_and_too_few_rows():
    one_label = [([float(i), 1.0, 2.0], "apple") for i in range(20)]
    assert check_task(one_label, "categorisation", 10) == "one label only"
    assert check_task(one_label[:5], "categorisation", 10) == "fewer than 10 valid rows"
    three = one_label[:10] + [([0.0, 0.0, 0.0], "pear"), ([1.0, 0.0, 0.0], "plum")]
    assert check_task(three, "categorisation", 10) == "3 labels instead of 2"
    assert check_task([([float(i)], 1.0) for i in range(12)], "functionlearning", 10) == "constant target"
    records = [{"key": 0, "task_id": 0, "text": "I cannot do that.", "labels": {"category_names": ["a", "b"]}},
               {"key": 1, "task_id": 1, "error": "gave up after 6 attempts"},
               {"key": 2, "task_id": 2, "text": "\n".join(f"{i}: {i}, 1, 2, a" for i in range(1, 13)),
                "labels": {"category_names": ["a", "b"]}}]
    corpus, report = build_corpus(records, "categorisation", 3)
    assert report["tasks"] == 3 and report["tasks_accepted"] == 0 and len(corpus) == 0
    assert report["tasks_rejected"] == {"fewer than 10 valid rows": 1, "LLM error": 1, "one label only": 1}


def test_function_learning_and_decision_making_rows(tmp_path):
    fl = "\n".join(f"{i}: {i * 1.5}, {10 + 2 * i}" for i in range(1, 21))
    corpus, report = build_corpus([{"key": 0, "task_id": 0, "text": fl,
                                    "labels": {"feature_names": ["hours"], "target_name": "score"}}], "functionlearning", 1)
    assert report["tasks_accepted"] == 1 and corpus["target"].tolist() == [10.0 + 2 * i for i in range(1, 21)]
    assert corpus["target_name"].iloc[0] == "score"
    dm = "\n".join(f"{i}: {i % 7}, {30 - i}, {2.5 * (i % 7)}" for i in range(1, 21))  # criterion follows cue 0
    corpus, report = build_corpus([{"key": 0, "task_id": 3, "text": dm,
                                    "labels": {"feature_names": ["a", "b"], "target_name": "value"}}], "decisionmaking", 2)
    assert report["tasks_accepted"] == 1 and len(corpus) == 20  # options, as in the published corpus
    corpus.to_csv(tmp_path / "dm.csv", index=False)
    problems = problems_from_options(tmp_path / "dm.csv")  # the trainer's converter
    assert problems.lengths.tolist() == [10]  # row i against row i + 10
    x, y = problems.x[0], problems.y[0]
    assert all((label == 1.0) == (diff > 0) for diff, label in zip(x[:, 0].tolist(), y.tolist()) if diff != 0)


def test_label_lines_parse_per_domain():
    labels, rejected = parse_tasklabels("Here you go:\n1. Length, Weight, Colour, apples, pears\n"
                                        "2. size, shape, dogs, cats\n3. a, b, c, x, x\n", "categorisation", 3)
    assert labels == [{"feature_names": ["Length", "Weight", "Colour"], "category_names": ["apples", "pears"]}]
    assert rejected == Counter({"4 names instead of 5": 1, "the same category twice": 1})
    labels, _ = parse_tasklabels("1. cities, population (+), distance to sea (-), rainfall", "decisionmaking", 2,
                                 "direction")
    assert labels == [{"option": "cities", "feature_names": ["population", "distance to sea"],
                       "target_name": "rainfall", "condition": "direction", "directions": [1, -1]}]
    labels, _ = parse_tasklabels("1. hours studied, exam score", "functionlearning", 1)
    assert labels == [{"feature_names": ["hours studied"], "target_name": "exam score"}]


def test_shards_are_contiguous_and_cover_every_task():
    shards = [generate_tasks.shard(range(10), p, 3) for p in range(3)]
    assert shards == [[0, 1, 2, 3], [4, 5, 6], [7, 8, 9]]


def test_three_stages_end_to_end_through_the_sdk(messages_server, tmp_path, capsys):
    """Labels -> pooled labels -> data with retries and garbage injected -> corpus; nothing lost, all counted."""
    messages_server.reply = fake_llm
    common = ["--backend", "anthropic", "--model", "test-model", "--num-dim", "3", "--raw-dir", str(tmp_path),
              "--concurrency", "4"]
    generate_tasklabels.main(common + ["--num-runs", "2", "--num-tasks", "6"])
    labels_csv = tmp_path / "labels.csv"
    generate_tasklabels.main(common + ["--pool", "--output", str(labels_csv)])
    labels = pd.read_csv(labels_csv)
    assert len(labels) == 12 and json.loads(labels["category_names"][3]) == ["cat3a", "cat3b"]

    garbage = iter(range(1000))
    messages_server.reply = lambda body: "Sorry, I can't." if next(garbage) % 4 == 0 else fake_llm(body)
    messages_server.faults.extend(["429", "500", "garbage"])
    generate_tasks.main(common + ["--use-generated-tasklabels", "--path-tasklabels", str(tmp_path),
                                  "--file-name-tasklabels", labels_csv.name, "--num-data", "30"])
    raw = tmp_path / "claude_tasks_dim3_data30_pversion5_procid0.jsonl"
    records, bad = read_jsonl([raw])
    assert bad == 0 and sorted(r["task_id"] for r in records) == list(range(12))
    assert all(r["error"] is None and r["usage"]["output_tokens"] > 0 and r["prompt_id"] for r in records)
    assert sum(r["attempts"] - 1 for r in records) == 3  # the three injected faults were retried

    corpus_csv = tmp_path / "corpus.csv"
    parse_generated_tasks.main(["--raw", str(raw), "--output", str(corpus_csv)])
    out = capsys.readouterr().out
    assert "tasks: 12 read, 9 accepted, 3 rejected" in out and "fewer than 10 valid rows" in out
    tasks = load_corpus(corpus_csv)
    assert len(tasks) == 9 and tasks.x.shape[1:] == (30, 3)
    corpus = pd.read_csv(corpus_csv)
    first = corpus[corpus.task_id == corpus.task_id.min()].iloc[0]
    assert first["target"] in json.loads(first["category_names"])
    assert json.loads(Path(f"{corpus_csv}.json").read_text())["tasks_accepted"] == 9


def test_resume_after_kill_9_loses_nothing(messages_server, tmp_path):
    messages_server.reply, messages_server.latency = fake_llm, 0.1
    cmd = [sys.executable, str(REPO / "taskgeneration" / "generate_tasks.py"), "--backend", "anthropic",
           "--model", "test-model", "--num-tasks", "40", "--num-data", "20", "--concurrency", "2",
           "--raw-dir", str(tmp_path)]
    raw = tmp_path / "claude_tasks_dim3_data20_pversion5_procid0.jsonl"
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 30
    while (not raw.exists() or raw.read_text().count("\n") < 6) and time.time() < deadline:
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    with open(raw, "a") as f:  # as if the kill had landed in the middle of a write
        f.write('{"key": 39, "task_id": 39, "te')
    records, bad = read_jsonl([raw])
    done = {r["key"] for r in records}
    assert bad == 1 and 6 <= len(done) < 40
    before = len(messages_server.requests)
    subprocess.run(cmd, check=True, capture_output=True, timeout=60)
    assert len(messages_server.requests) - before == 40 - len(done)  # only the unfinished tasks were asked again
    records, bad = read_jsonl([raw])
    assert bad == 1 and sorted(r["key"] for r in records) == list(range(40))  # each task exactly once
    subprocess.run(cmd, check=True, capture_output=True, timeout=60)
    assert len(messages_server.requests) - before == 40 - len(done)  # a finished run asks for nothing


@pytest.mark.parametrize("prior", ["linear", "mlp", "rmc"])
def test_synthetic_corpora_load_and_are_reproducible(prior, tmp_path):
    args = ["--prior", prior, "--num-tasks", "40", "--num-dims", "3", "--max-steps", "12", "--seed", "1"]
    generate_synthetic_data.main(args + ["--output", str(tmp_path / "a.csv")])
    generate_synthetic_data.main(args + ["--output", str(tmp_path / "b.csv")])
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    corpus = pd.read_csv(tmp_path / "a.csv")
    assert corpus.shape == (480, 4) and set(corpus["target"]) <= {"A", "B"}
    tasks = load_corpus(tmp_path / "a.csv")
    assert len(tasks) + sum(tasks.dropped.values()) == 40 and tasks.x.shape[1:] == (12, 3)
    values = {v for row in corpus["input"] for v in json.loads(row)}
    if prior == "rmc":
        assert values <= {0.0, 0.5, 1.0}  # binary features, scaled per task
    else:
        assert len(values) > 400 and min(values) == 0.0 and max(values) == 1.0
    if prior == "linear":  # MI tasks are linearly separable: a perceptron-free check via the sign of a fitted plane
        import numpy as np
        for _, task in corpus.groupby("task_id"):
            x = np.array([json.loads(r) for r in task["input"]])
            y = (task["target"] == "B").to_numpy()
            if 0 < y.sum() < len(y):
                w, *_ = np.linalg.lstsq(np.c_[x, np.ones(len(x))], np.where(y, 1.0, -1.0), rcond=None)
                assert ((np.c_[x, np.ones(len(x))] @ w > 0) == y).mean() >= 0.75
