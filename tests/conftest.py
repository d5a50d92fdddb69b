"""Shared pytest fixtures. Each block is self-contained; add new fixtures below, with their own imports."""
import sys
from pathlib import Path

import pytest

# --- Messages-API server (tests/messages_server.py): a real local HTTP server for the anthropic SDK ---------------
sys.path.insert(0, str(Path(__file__).resolve().parent))
from messages_server import MessagesServer  # noqa: E402


@pytest.fixture
def messages_server(monkeypatch):
    """A started MessagesServer; ANTHROPIC_BASE_URL / ANTHROPIC_API_KEY point at it for the test's duration.
    Set ``.reply``, ``.latency``, ``.fault`` or push onto ``.faults`` to shape its answers."""
    with MessagesServer() as server:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
        monkeypatch.setenv("ANTHROPIC_API_KEY", "test-key-not-secret")
        yield server
