"""Does a participant's fit depend on how the experimenter coded the Badham et al. (2017) data?

Refits each model on recoded copies of the data (the keys j/f swapped, a feature reversed, the features reordered,
all at once) and reports, per model and recoding, the largest and the summed change in participants' NLL and the
change in summed BIC: once with the choice probability averaged over the coding group (the default of every fit),
once for the data as coded only (``--max-codings 1``, what the fits did before).

    python categorisation/coding_invariance.py --model-names ermi_categorisation_dim3 pfn_categorisation_dim3
"""
import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from categorisation.experiments import badham_path
from categorisation.fit_humans import fit
from ermi.codings import MAX_CODINGS
from ermi.paths import domain_dir, ensure_parent, write_sidecar

RECODINGS = {"keys swapped": {"swap": True}, "feature 1 reversed": {"flip": (1,)},
             "features reordered (3, 1, 2)": {"order": (3, 1, 2)},
             "all three": {"swap": True, "flip": (1,), "order": (3, 1, 2)}}


def recode(df: pd.DataFrame, swap=False, flip=(), order=(1, 2, 3)) -> pd.DataFrame:
    """The Badham file as another experimenter might have coded it."""
    df = df.copy()
    if swap:
        for column in ("choice", "correct_choice"):
            df[column] = df[column].map({"j": "f", "f": "j"})
    for d in flip:
        df[f"feature{d}"] = 1 - df[f"feature{d}"]
    df[["feature1", "feature2", "feature3"]] = df[[f"feature{d}" for d in order]].to_numpy()
    return df


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model-names", nargs="+", required=True)
    parser.add_argument("--data", default=None, help="Badham-format CSV (default: the full file)")
    parser.add_argument("--output", default=str(domain_dir("categorisation") / "data" / "simulations" /
                                                "coding_invariance.csv"))
    args = parser.parse_args(argv)
    started = time.time()
    data_path = Path(args.data or badham_path())
    original = pd.read_csv(data_path)
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        files = {"as coded": data_path}
        for name, how in RECODINGS.items():
            files[name] = Path(folder) / f"{len(files)}.csv"
            recode(original, **how).to_csv(files[name], index=False)
        for model in args.model_names:
            for max_codings in (MAX_CODINGS, 1):
                nll = {name: np.array([r["nll"] for r in fit("badham2017", model, path, max_codings=max_codings)[0]])
                       for name, path in files.items()}
                for name in RECODINGS:
                    change = nll[name] - nll["as coded"]
                    rows.append({"model": Path(model).stem.split("_")[0], "codings": max_codings, "recoding": name,
                                 "max_abs_nll_change": np.abs(change).max(),
                                 "participants_over_1_nat": int((np.abs(change) > 1).sum()),
                                 "summed_bic_change": 2 * change.sum()})
                print(f"{model}, {max_codings} coding(s): done")
    table = pd.DataFrame(rows)
    output = ensure_parent(args.output)
    table.to_csv(output, index=False)
    write_sidecar(output, started, models=args.model_names, data=str(data_path))
    print(table.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    print(f"wrote {output}")


if __name__ == "__main__":
    main()
