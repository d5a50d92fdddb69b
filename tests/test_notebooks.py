"""Every notebook in notebooks/ runs headlessly (nbclient) on small inputs, and shows what it promises."""
import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def execute(name, tmp_path, monkeypatch):
    # The kernel inherits this environment: small Shepard run, results into tmp_path.
    monkeypatch.setenv("ERMI_NOTEBOOK_OUT", str(tmp_path))
    monkeypatch.setenv("ERMI_SHEPARD_TASKS", "2")
    monkeypatch.setenv("ERMI_NOTEBOOK_DATA", str(NOTEBOOKS.parent / "tests/fixtures/badham2017_first_participants.csv"))
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
    return nb


def outputs(nb, kind):
    return [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs
            if o.output_type in ("display_data", "execute_result") and kind in o.get("data", {})]


@pytest.mark.parametrize("name", sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")))
def test_notebook_is_committed_without_outputs(name):
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in nb.cells if c.cell_type == "code")


def test_categorisation_notebook(tmp_path, monkeypatch):
    nb = execute("categorisation.ipynb", tmp_path, monkeypatch)
    assert len(outputs(nb, "image/png")) == 2   # model comparison and Shepard figures
    for model in ("ermi", "mi", "pfn", "gcm", "pm", "rulex"):
        assert (tmp_path / "fits" / f"badham2017_{model}.csv").exists()
    assert (tmp_path / "shepard1961.csv").exists()
    assert os.path.getsize(tmp_path / "shepard1961.png") > 0


def test_decisionmaking_notebook(tmp_path, monkeypatch):
    nb = execute("decisionmaking.ipynb", tmp_path, monkeypatch)
    assert len(outputs(nb, "image/png")) == 2   # accuracy by trial, Gini coefficients
    tables = [o["data"]["text/plain"] for o in outputs(nb, "text/html")]
    assert all(f"binz2022heuristics_exp{i}" in tables[0] for i in (1, 2, 3, 4))   # accuracy by trial
    assert "ideal_observer" in tables[1] and "exp. 2 (direction)" in tables[1]      # mean BIC per experiment
    assert "people" in tables[2]                                                    # Gini per experiment
    for number in (1, 2, 3, 4):
        assert (tmp_path / "dm_fits" / f"binz2022_exp{number}_comparison.csv").exists()


def test_functionlearning_notebook(tmp_path, monkeypatch):
    monkeypatch.setenv("ERMI_FL_TASKS", "16")
    nb = execute("functionlearning.ipynb", tmp_path, monkeypatch)
    assert len(outputs(nb, "image/png")) == 4   # corpus and prior, DeLosh, Kwantes & Neal, difficulty
    for name in ("delosh1997", "kwantes2006", "difficulty"):
        assert (tmp_path / f"{name}.csv").exists() and (tmp_path / f"{name}.png").stat().st_size > 0
    table = outputs(nb, "text/html")[-1]["data"]["text/plain"]
    assert "positive_linear" in table and "EXAM" in table


def test_your_experiment_notebook(tmp_path, monkeypatch):
    nb = execute("your_experiment.ipynb", tmp_path, monkeypatch)
    tables = [o["data"]["text/plain"] for o in outputs(nb, "text/html")]
    assert "p01" in tables[0] and "pear" in tables[0] and "ermi_line" not in tables[0]  # the data as loaded
    assert "protected_exceedance" in tables[2] and "rulex" in tables[2]
    assert "true_beta" in tables[3]
