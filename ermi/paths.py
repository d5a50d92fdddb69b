"""Repo-relative default paths, .env loading, model-name resolution and JSON provenance sidecars."""
import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from dotenv import load_dotenv

REPO_ROOT = Path(__file__).resolve().parent.parent
TRAINED_MODELS = REPO_ROOT / "trained_models"
FIGURES = REPO_ROOT / "figures"

load_dotenv(REPO_ROOT / ".env", override=False)


def env(name, default=None, aliases=()):
    """An environment variable (or .env entry), or the first of its older aliases that is set."""
    for key in (name, *aliases):
        if os.environ.get(key):
            return os.environ[key]
    return default


def domain_dir(domain: str) -> Path:
    """Root of a domain folder (categorisation, functionlearning, decisionmaking): under ERMI_DIR when set
    (the seed's BERMI_DIR is accepted too), else in the repository."""
    return Path(env("ERMI_DIR", REPO_ROOT, aliases=("BERMI_DIR",))) / domain


def weight_dirs() -> list:
    """Where weight names are looked up: ERMI_WEIGHTS (or the seed's BERMI_WEIGHTS) first, then trained_models/."""
    extra = env("ERMI_WEIGHTS", aliases=("BERMI_WEIGHTS",))
    return [Path(extra), TRAINED_MODELS] if extra else [TRAINED_MODELS]


def resolve_model(name_or_path) -> Path:
    """A path to a weight file, or a short name such as ``ermi_categorisation_dim3`` in ERMI_WEIGHTS or
    trained_models/."""
    path = Path(name_or_path)
    candidates = [path] + [folder / name for folder in weight_dirs() for name in (path, f"{path}.pt")]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    shipped = ", ".join(sorted({p.stem for folder in weight_dirs() for p in folder.glob("*.pt")})) or "none"
    where = " or ".join(str(folder) for folder in weight_dirs())
    raise FileNotFoundError(f"model {name_or_path!r}: no such file, nor a name in {where} (available: {shipped})")


def file_sha256(path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def repo_relative(path) -> str:
    """A path relative to the repository when it lies inside it (portable model cards), else absolute."""
    path = Path(path).resolve()
    return str(path.relative_to(REPO_ROOT)) if path.is_relative_to(REPO_ROOT) else str(path)


def git_commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=5)
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def write_sidecar(output, started: float, **fields) -> Path:
    """``<output>.json`` beside a result file: command, git commit, timing and whatever the stage adds."""
    sidecar = Path(f"{output}.json")
    record = {"command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]), "git_commit": git_commit(),
              "created": time.strftime("%Y-%m-%dT%H:%M:%S"), "seconds": round(time.time() - started, 3), **fields}
    sidecar.write_text(json.dumps(record, indent=2, default=str) + "\n")
    return sidecar


def ensure_parent(path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def device_or_default(requested=None) -> str:
    """``--device`` if given, else CUDA when available, else CPU."""
    if requested:
        return requested
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def show_cell(value) -> str:
    """A CSV cell as a user would write it in an error message: strings quoted, numbers plain (no numpy reprs)."""
    return repr(value) if isinstance(value, str) else str(value.item() if hasattr(value, "item") else value)


def read_table(path, required, error, **read_csv_kwargs):
    """Read a CSV that must have ``required`` columns and rows; problems raise ``error`` as one ``file:row`` line."""
    import pandas as pd

    try:
        df = pd.read_csv(path, **read_csv_kwargs)
    except FileNotFoundError:
        raise error(f"{path}: no such file") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise error(f"{path}: not a readable CSV ({str(err).splitlines()[0]})") from None
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise error(f"{path}:1: missing column(s) {', '.join(missing)} (need {', '.join(required)})")
    if df.empty:
        raise error(f"{path}: no rows")
    return df
