"""Constrained generation: the grammars admit exactly the replies the parser accepts, SmolLM2 under the grammar
writes tasks that parse with zero rejections, and the tool-use schema reaches the Messages-API server and comes
back through the same parser."""
import argparse
import json
import random

import pytest
import xgrammar

from ermi.llm import LocalBackend, Reply, Structure
from taskgeneration import generate_tasklabels, generate_tasks, parse_generated_tasks
from taskgeneration.common import read_jsonl, run_jobs
from taskgeneration.generate_tasklabels import parse_tasklabels
from taskgeneration.parse_generated_tasks import build_corpus, parse_reply
from taskgeneration.prompts import task_prompt
from taskgeneration.structure import reply_text, task_structure, tasklabel_grammar

LABELS = {"feature_names": ["weight", "sweetness", "diameter"], "category_names": ["Apple", "Pear"]}
VALID = "1: 150, 7.5, 8.25, Apple\n2: 130.5, 6, 7.1, Pear\n3: -2, 0, 1234.12, Apple\n"
CHARS = [chr(c) for c in range(32, 127)] + ["\n", "</s>"]  # a character-level vocabulary; "</s>" stops


def accepts(grammar, text):
    """Does the grammar admit ``text`` as a whole reply (every character, then the stop token)?"""
    info = xgrammar.TokenizerInfo(CHARS, stop_token_ids=[len(CHARS) - 1])
    matcher = xgrammar.GrammarMatcher(xgrammar.GrammarCompiler(info).compile_grammar(grammar))
    return matcher.accept_string(text) and matcher.accept_token(len(CHARS) - 1)


def test_task_grammar_admits_a_valid_reply_that_parses_cleanly():
    grammar = task_structure("categorisation", LABELS, 3).grammar
    assert accepts(grammar, VALID)
    rows, rejected = parse_reply(VALID, "categorisation", 3, LABELS["category_names"])
    assert len(rows) == 3 and not rejected and rows[2] == ([-2.0, 0.0, 1234.12], "Apple")


@pytest.mark.parametrize("reply, parser_reason", [
    ("1: 150, 7.5, Apple\n2: 130, 6, 7, Pear\n3: 1, 2, 3, Apple\n", "2 values instead of 3"),
    ("1: 150, 7.5, 8, 9, Apple\n2: 130, 6, 7, Pear\n3: 1, 2, 3, Apple\n", "4 values instead of 3"),
    ("1: 150 g, 7.5, 8, Apple\n2: 130, 6, 7, Pear\n3: 1, 2, 3, Apple\n", "non-numeric feature value"),
    ("1: 150, nan, 8, Apple\n2: 130, 6, 7, Pear\n3: 1, 2, 3, Apple\n", "non-numeric feature value"),
    ("1: 15000, 7.5, 8, Apple\n2: 130, 6, 7, Pear\n3: 1, 2, 3.125, Apple\n", "a longer number than the grammar allows (the parser would keep it)"),
    ("1: 150, 7.5, 8, \n2: 130, 6, 7, Pear\n3: 1, 2, 3, Apple\n", "missing label"),
    ("1: 150, 7.5, 8, 1\n2: 130, 6, 7, Pear\n3: 1, 2, 3, Apple\n", "numeric label"),
    ("1: 150, 7.5, 8, Banana\n2: 130, 6, 7, Pear\n3: 1, 2, 3, Apple\n", "label not one of the two categories"),
    ("1: 150, 7.5, 8, Apple\n2: 130, 6, 7, Pear\n3: 1, 2,", "last row cut by max_tokens"),
    ("1: 150, 7.5, 8, Apple\n2: 130, 6, 7, Pear\n", "fewer rows than asked"),
    ("1: 150, 7.5, 8, Apple\n2: 130, 6, 7, Apple\n3: 1, 2, 3, Apple\n", "one label only"),
    ("Sure! Here are the stimuli:\n" + VALID, "prose around the rows"),
    ("1: 150, 7.5, 8, Apple\n3: 130, 6, 7, Pear\n2: 1, 2, 3, Apple\n", "rows out of order"),
])
def test_task_grammar_rejects_every_malformed_form_the_parser_counts(reply, parser_reason):
    assert not accepts(task_structure("categorisation", LABELS, 3).grammar, reply), parser_reason


def test_function_learning_grammar_needs_a_numeric_target():
    grammar = task_structure("functionlearning", {"feature_names": ["dose"], "target_name": "effect"}, 2).grammar
    assert accepts(grammar, "1: 0.5, 12\n2: 1, 20.25\n")
    assert not accepts(grammar, "1: 0.5, high\n2: 1, 20.25\n")
    assert not accepts(grammar, "1: 0.5, 12\n")


def test_label_grammar_fixes_the_number_of_names_and_lines():
    grammar = tasklabel_grammar("categorisation", 3, 2)
    good = "1. Weight, Sweetness, Diameter, Apple, Pear\n2. Height, Mass, Age, Adult, Child\n"
    assert accepts(grammar, good) and len(parse_tasklabels(good, "categorisation", 3)[0]) == 2
    assert not accepts(grammar, "1. Weight, Sweetness, Apple, Pear\n2. Height, Mass, Age, Adult, Child\n")
    assert not accepts(grammar, "1. Weight, Sweetness, Diameter, Apple, Pear\n")
    direction = tasklabel_grammar("decisionmaking", 2, 1, "direction")
    assert accepts(direction, "1. Cars, Horsepower (+), Age (-), Price\n")
    assert not accepts(direction, "1. Cars, Horsepower, Age (-), Price\n")


def test_smollm2_under_the_grammar_writes_two_tasks_with_zero_rejections():
    """The shipped 135M model, which left to itself writes prose (see the README), under the grammar."""
    labels = [LABELS, {"feature_names": ["size", "age", "speed"], "category_names": ["Cat", "Dog"]}]
    backend = LocalBackend(device="cpu", batch_size=2)
    replies = backend.generate([task_prompt("categorisation", lab, 4) for lab in labels], max_tokens=200, seed=0,
                               structures=[task_structure("categorisation", lab, 4) for lab in labels])
    records = [{"key": i, "task_id": i, "labels": lab, **reply.as_dict()}
               for i, (lab, reply) in enumerate(zip(labels, replies))]
    assert all(r["constrained"].startswith("grammar (xgrammar") and r["stop_reason"] == "end_turn" for r in records)
    corpus, report = build_corpus(records, "categorisation", 3, min_rows=4)
    assert report["tasks_accepted"] == 2 and report["rows_accepted"] == 8 and not report["rows_rejected"], report
    assert set(corpus[corpus.task_id == 1].target) == {"Cat", "Dog"}


def schema_following_llm(body):
    """A stand-in that answers the tool call with an instance of the requested schema (seeded by the prompt)."""
    schema = body["tools"][0]["input_schema"]["properties"]
    rng = random.Random(body["messages"][0]["content"])
    if "experiments" in schema:
        n = schema["experiments"]["minItems"]
        d = schema["experiments"]["items"]["properties"]["features"]["minItems"]
        return {"experiments": [{"features": [f"feature {k}" for k in range(d)], "categories": [f"a{i}", f"b{i}"]}
                                for i in range(n)]}
    rows = schema["rows"]
    categories = rows["items"]["properties"]["target"]["enum"]
    d = rows["items"]["properties"]["values"]["minItems"]
    return {"rows": [{"values": [round(rng.uniform(0, 10), 2) for _ in range(d)], "target": categories[i % 2]}
                     for i in range(rows["minItems"])]}


def test_schema_request_reaches_the_server_and_parses_like_text(messages_server, tmp_path, capsys):
    messages_server.reply = schema_following_llm
    common = ["--backend", "anthropic", "--model", "test-model", "--num-dim", "3", "--raw-dir", str(tmp_path),
              "--concurrency", "1"]  # requests in task order
    generate_tasklabels.main(common + ["--num-runs", "1", "--num-tasks", "4"])
    generate_tasklabels.main(common + ["--pool", "--output", str(tmp_path / "labels.csv")])
    generate_tasks.main(common + ["--use-generated-tasklabels", "--path-tasklabels", str(tmp_path),
                                  "--file-name-tasklabels", "labels.csv", "--num-data", "12"])
    label_body, task_body = messages_server.requests[0], messages_server.requests[1]
    assert label_body["tool_choice"] == {"type": "tool", "name": "record_rows"}
    assert label_body["tools"][0]["input_schema"]["properties"]["experiments"]["maxItems"] == 4
    rows_schema = task_body["tools"][0]["input_schema"]["properties"]["rows"]
    assert rows_schema["minItems"] == rows_schema["maxItems"] == 12
    assert rows_schema["items"]["properties"]["target"]["enum"] == ["a0", "b0"]

    raw = tmp_path / "claude_tasks_dim3_data12_pversion5_procid0.jsonl"
    records, _ = read_jsonl([raw])
    assert all(r["constrained"] == "tool schema" and r["text"] == "" and len(r["structured"]["rows"]) == 12
               for r in records)
    assert reply_text(records[0]).splitlines()[1] == "2: " + ", ".join(
        str(v) for v in records[0]["structured"]["rows"][1]["values"]) + ", b0"
    parse_generated_tasks.main(["--raw", str(raw), "--output", str(tmp_path / "corpus.csv")])
    assert "tasks: 4 read, 4 accepted, 0 rejected" in capsys.readouterr().out


def test_a_reply_that_ignores_the_tool_falls_back_to_the_text_parser(messages_server, tmp_path):
    messages_server.reply = lambda body: "\n".join(f"{i}: 1, 2, {i}, {'AB'[i % 2]}" for i in range(1, 13))
    generate_tasks.main(["--backend", "anthropic", "--model", "m", "--num-tasks", "1", "--num-data", "12",
                         "--raw-dir", str(tmp_path)])
    record = read_jsonl([tmp_path / "claude_tasks_dim3_data12_pversion5_procid0.jsonl"])[0][0]
    assert record["structured"] is None and record["constrained"] == "tool schema"
    corpus, report = build_corpus([record], "categorisation", 3)
    assert report["tasks_accepted"] == 1 and len(corpus) == 12


def test_free_text_sends_no_tools_and_a_bad_tool_choice_is_refused(messages_server, tmp_path):
    generate_tasks.main(["--backend", "anthropic", "--model", "m", "--num-tasks", "1", "--num-data", "12",
                         "--raw-dir", str(tmp_path), "--free-text"])
    assert "tools" not in messages_server.requests[-1] and "tool_choice" not in messages_server.requests[-1]
    from ermi.llm import AnthropicBackend

    backend = AnthropicBackend(model="m", api_key="k", base_url=messages_server.url, max_attempts=1)
    structure = Structure("root ::= \"x\"", {"type": "object"}, tool="record_rows")
    body_tools = backend.generate(["hi"], structures=[structure])[0]
    assert body_tools.error is None and messages_server.requests[-1]["tools"][0]["name"] == "record_rows"
    bad = backend.generate(["hi"], structures=[Structure("", "not a schema")])[0]
    assert bad.error.startswith("HTTP 400") and "input_schema" in bad.error


def test_structured_reply_of_the_wrong_shape_is_counted_not_crashed():
    record = {"task_id": 0, "key": 0, "labels": LABELS,
              "structured": {"rows": [{"values": [1, 2, 3], "target": "Apple"}, "junk",
                                      {"values": [1, "two", 3], "target": "Pear"}, {"target": "Pear"}]}}
    corpus, report = build_corpus([record], "categorisation", 3, min_rows=1)
    assert report["rows_accepted"] == 0 and report["tasks_rejected"] == {"one label only": 1}
    assert report["rows_rejected"] == {"non-numeric feature value": 1, "no comma-separated values": 1}
    assert corpus.empty


def test_a_labels_file_with_one_category_twice_stops_with_its_row(tmp_path):
    labels = tmp_path / "labels.csv"
    labels.write_text('task_id,feature_names,category_names\n0,"[""a"", ""b"", ""c""]","[""x"", ""y""]"\n'
                      '1,"[""a"", ""b"", ""c""]","[""Cat"", ""cat""]"\n')
    with pytest.raises(SystemExit) as stop:
        generate_tasks.main(["--backend", "local", "--use-generated-tasklabels", "--path-tasklabels", str(tmp_path),
                             "--file-name-tasklabels", "labels.csv", "--raw-dir", str(tmp_path)])
    assert str(stop.value) == f"generate_tasks: {labels}:3: needs two different category names, got ['cat', 'cat']"


def test_the_token_budget_covers_the_longest_reply_the_grammar_admits():
    labels = {"feature_names": ["a", "b", "c"], "category_names": ["x" * 40, "Pear"]}
    structure = task_structure("categorisation", labels, 12)
    longest = "".join(f"{i}: -9999.99, -9999.99, -9999.99, {labels['category_names'][i % 2]}\n" for i in range(1, 13))
    assert accepts(structure.grammar, longest) and len(longest) <= structure.max_chars
    assert not accepts(structure.grammar, longest.replace("-9999.99", "-99999.99", 1))


class RecordingBackend:
    """Stands in for the local backend: answers every prompt with a complete reply and records each call."""
    name = "local"

    def __init__(self):
        self.calls = []

    def generate(self, prompts, max_tokens, temperature, seed, on_reply, structures):
        self.calls.append({"prompts": prompts, "max_tokens": max_tokens, "structures": structures})
        for i, _ in enumerate(prompts):
            on_reply(i, Reply(text=VALID, stop_reason="end_turn", constrained="grammar (test)"))


def test_a_reply_cut_under_the_grammar_is_asked_again_with_the_grammar_budget(tmp_path):
    raw = tmp_path / "raw.jsonl"
    cut = {"key": 0, "task_id": 0, "text": "1: 1, 2,", "stop_reason": "max_tokens", "constrained": "grammar (x)"}
    whole = {"key": 1, "task_id": 1, "text": VALID, "stop_reason": "end_turn", "constrained": "grammar (x)"}
    raw.write_text(json.dumps(cut) + "\n" + json.dumps(whole) + "\n")
    jobs = [{"key": k, "task_id": k, "prompt": f"task {k}", "labels": LABELS} for k in (0, 1)]
    args = argparse.Namespace(max_length=50, free_text=False, temperature=None, seed=0)
    backend = RecordingBackend()
    structure = lambda job: task_structure("categorisation", job["labels"], 3)  # noqa: E731
    run_jobs(backend, jobs, raw, args, structure=structure)
    assert backend.calls == []  # by default a cut reply stays (stage A: a redone call would renumber the tasks)
    run_jobs(backend, jobs, raw, args, structure=structure, redo_cut=True)
    (call,) = backend.calls
    assert call["prompts"] == ["task 0"] and call["max_tokens"] == task_structure("categorisation", LABELS, 3).max_chars
    corpus, report = build_corpus(read_jsonl([raw])[0], "categorisation", 3, min_rows=3)
    assert report["tasks_accepted"] == 2 and len(corpus) == 6


def test_a_one_row_categorisation_task_is_refused_in_one_line(tmp_path):
    with pytest.raises(ValueError, match="at least 2 rows"):
        task_structure("categorisation", LABELS, 1)
    with pytest.raises(SystemExit):
        generate_tasks.main(["--backend", "local", "--num-data", "1", "--raw-dir", str(tmp_path)])
