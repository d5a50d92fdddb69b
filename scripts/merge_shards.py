"""Concatenate corpus shards PREFIX_shard0..N-1.csv into one corpus CSV, renumbering task ids so they stay unique.
Fails when a shard is missing, so a half-finished generation array is never trained on."""
import argparse
from pathlib import Path

import pandas as pd


def merge(prefix, num_shards):
    frames, offset = [], 0
    for k in range(num_shards):
        shard = pd.read_csv(f"{prefix}_shard{k}.csv", dtype={"input": str})
        shard["task_id"] += offset
        offset = int(shard["task_id"].max()) + 1
        frames.append(shard)
    return pd.concat(frames, ignore_index=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--prefix", required=True)
    parser.add_argument("--num-shards", type=int, required=True)
    parser.add_argument("--output", required=True)
    args = parser.parse_args(argv)
    corpus = merge(args.prefix, args.num_shards)
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    corpus.to_csv(args.output, index=False)
    print(f"wrote {args.output}: {corpus.task_id.nunique()} tasks from {args.num_shards} shards")


if __name__ == "__main__":
    main()
