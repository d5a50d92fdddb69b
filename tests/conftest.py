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


# --- A real single-node Slurm (tests/slurm_local.py): munged, slurmctld and slurmd in a temp folder ---------------
def pytest_configure(config):
    config.addinivalue_line("markers", "slurm: needs Slurm (Debian slurm-wlm and munge); starts a local cluster")


@pytest.fixture(scope="session")
def slurm(tmp_path_factory):
    """A started LocalSlurm for the whole session, shut down (with the munged it started) afterwards.
    Skips when the Slurm or munge binaries are missing or when not root (slurmd must run as root)."""
    import os

    from slurm_local import LocalSlurm, missing_binaries

    missing = missing_binaries()
    if missing:
        pytest.skip(f"Slurm not installed (missing {', '.join(missing)}): apt-get install slurm-wlm munge")
    if os.geteuid() != 0:
        pytest.skip("a local slurmd needs root")
    with LocalSlurm(tmp_path_factory.mktemp("slurm")) as cluster:
        yield cluster
