"""Decision problems to learn from: LLM-written options turned into paired comparisons, as the reference does.

An LLM task lists options (rows): K cue values and a numeric criterion. Each cue is z-scored within its task;
option i is paired with option i + N/2 (row i with row i + 10 for the 20 rows asked for), the cue differences
x = z(i + N/2) - z(i) are one trial, and the label is 1 when the second option's criterion is higher. The same
converter serves stage C of task generation and the published Llama-3 corpus, so both give the same problems.
"""
from collections import Counter

import numpy as np
import torch
from torch.nn.utils.rnn import pad_sequence

from ermi.episodes import CorpusError, TaskSet, load_corpus


def paired_comparisons(options: np.ndarray, criterion: np.ndarray):
    """options [N, K], criterion [N] -> cue differences [N // 2, K] and labels [N // 2] (1: row i + N//2 higher)."""
    options, criterion = np.asarray(options, dtype=float), np.asarray(criterion, dtype=float)
    half = len(options) // 2
    std = options.std(axis=0)
    z = (options - options.mean(axis=0)) / np.where(std > 0, std, 1.0)
    return z[half:2 * half] - z[:half], (criterion[half:2 * half] > criterion[:half]).astype(np.float32)


def problems_from_options(paths, num_dims=None) -> TaskSet:
    """A corpus of options (input = cue values, target = criterion number) -> one 10-trial problem per task.

    Per-task min-max scaling by the corpus loader does not change z-scores or criterion order, so loading it
    scaled is exact. Tasks with fewer than 4 options, or whose comparisons all have one label, are dropped and
    counted."""
    options = load_corpus(paths, num_dims=num_dims, binary=False)
    xs, ys, keep, dropped = [], [], [], Counter(options.dropped)
    for i in range(len(options)):
        n = int(options.lengths[i])
        if n < 4:
            dropped["fewer than 4 options"] += 1
            continue
        x, y = paired_comparisons(options.x[i, :n].numpy(), options.y[i, :n].numpy())
        if y.min() == y.max():
            dropped["all comparisons with one label"] += 1
            continue
        xs.append(torch.from_numpy(x).float())
        ys.append(torch.from_numpy(y))
        keep.append(i)
    if not keep:
        raise CorpusError(f"{paths}: no usable decision problem ({dict(dropped)})")
    return TaskSet(pad_sequence(xs, batch_first=True), pad_sequence(ys, batch_first=True),
                   torch.tensor([len(yi) for yi in ys]), [options.task_ids[i] for i in keep], dict(dropped),
                   [options.sources[i] for i in keep])
