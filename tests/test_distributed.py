"""categorisation/train_transformer.py under torchrun with 2 CPU processes (DDP, gloo) equals a 1-process run with
the same global batch: every rank slices the same global batch, so with dropout 0 the averaged gradients match."""
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
ARGS = ["--synthetic", "--num-dims", "3", "--max-steps", "8", "--num-episodes", "4", "--batch_size", "8",
        "--save-every", "2", "--num-val-tasks", "8", "--dropout", "0", "--num_layers", "2", "--d_model", "16",
        "--num_head", "2", "--num_hidden", "32", "--device", "cpu"]

# Runs the real CLI; the wrapper around train() only also saves what every rank ends with, to compare the ranks.
DRIVER = textwrap.dedent("""\
    import os, sys, torch
    import categorisation.train_transformer as cli
    import ermi.training
    real_train = ermi.training.train
    def train(*args, **kwargs):
        ckpt = real_train(*args, **kwargs)
        torch.save(ckpt["state_dict"], os.path.join(os.environ["RANK_DIR"], f"rank{os.environ.get('RANK', '0')}.pt"))
        return ckpt
    ermi.training.train = train
    cli.main(sys.argv[1:])
""")


def _run(tmp_path, name, nproc):
    folder = tmp_path / name
    folder.mkdir()
    driver = tmp_path / "driver.py"
    driver.write_text(DRIVER)
    launcher = [sys.executable] if nproc == 1 else [sys.executable, "-m", "torch.distributed.run", "--standalone",
                                                     f"--nproc_per_node={nproc}"]
    env = dict(os.environ, RANK_DIR=str(folder), OMP_NUM_THREADS="1")
    subprocess.run([*launcher, str(driver), *ARGS, "--save-dir", str(folder), "--output", str(folder / "w.pt")],
                   cwd=REPO, env=env, check=True, capture_output=True, text=True, timeout=180)
    return folder


def test_two_processes_match_one_process_with_the_same_global_batch(tmp_path):
    ddp, single = _run(tmp_path, "ddp", 2), _run(tmp_path, "single", 1)
    rank0, rank1 = torch.load(ddp / "rank0.pt"), torch.load(ddp / "rank1.pt")
    reference = torch.load(single / "rank0.pt")
    for key, value in reference.items():
        assert torch.equal(rank0[key], rank1[key]), f"ranks differ in {key}"
        ddp_value = rank0[key]
        if key.endswith("attn.qkv.bias"):
            # The key bias has an exactly zero gradient (softmax ignores a per-query constant), so AdamW turns the
            # float round-off of each summation order into steps of up to lr: compare it loosely, the rest tightly.
            d = value.numel() // 3
            torch.testing.assert_close(ddp_value[d:2 * d], value[d:2 * d], atol=1e-4, rtol=0)
            ddp_value, value = torch.cat([ddp_value[:d], ddp_value[2 * d:]]), torch.cat([value[:d], value[2 * d:]])
        torch.testing.assert_close(ddp_value, value, atol=1e-5, rtol=0, msg=f"2 processes vs 1 differ in {key}")

    # rank 0 wrote the checkpoint and the weights; the logged (all-reduced) losses match the single run's
    ddp_ckpt = torch.load(next(ddp.glob("*.ckpt")), weights_only=False)
    single_ckpt = torch.load(next(single.glob("*.ckpt")), weights_only=False)
    assert ddp_ckpt["step"] == single_ckpt["step"] == 4
    for a, b in zip(ddp_ckpt["history"], single_ckpt["history"], strict=True):
        assert abs(a["loss"] - b["loss"]) < 1e-5 and abs(a["val_loss"] - b["val_loss"]) < 1e-5
    for key, value in torch.load(ddp / "w.pt", weights_only=False)["state_dict"].items():
        torch.testing.assert_close(value, rank0[key], atol=0, rtol=0)
