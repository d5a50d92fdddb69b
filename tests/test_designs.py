"""The classic designs against their textbook definitions."""
import itertools

import numpy as np
import torch

from categorisation.experiments import CUBE, SHEPARD_TYPES, johansen_items, shepard_tasks, smith1998_design

ADJACENT = np.abs(CUBE[:, None] - CUBE[None]).sum(-1) == 1


def _canonical_key(labels):
    """The smallest labelling reachable by permuting/negating features and swapping the two categories."""
    keys = []
    for perm in itertools.permutations(range(3)):
        for neg in itertools.product([0, 1], repeat=3):
            index = (np.abs(CUBE[:, perm] - np.array(neg)) @ [4, 2, 1]).astype(int)
            moved = np.zeros(8, int)
            moved[index] = labels
            keys += [tuple(moved), tuple(1 - moved)]
    return min(keys)


def test_the_six_types_are_the_six_symmetry_classes():
    """The 70 ways to split the cube 4/4 fall into six classes of sizes 6, 6, 24, 8, 24, 2 (types I-VI)."""
    classes = {}
    for members in itertools.combinations(range(8), 4):
        labels = np.zeros(8, int)
        labels[list(members)] = 1
        classes.setdefault(_canonical_key(labels), []).append(members)
    expected_sizes = {1: 6, 2: 6, 3: 24, 4: 8, 5: 24, 6: 2}
    keys = {t: _canonical_key(np.array(labels)) for t, labels in SHEPARD_TYPES.items()}
    assert len(set(keys.values())) == 6
    for t, key in keys.items():
        assert len(classes[key]) == expected_sizes[t], t


def test_type_invariants():
    """Same-category cube edges and the largest same-category degree tell the types apart:
    I: one face (8, 2); II: XOR, two parallel edges per category (4, 1); III: paths of 3 edges (6, 2);
    IV: a prototype with its 3 neighbours (6, 3); V: rule plus exception (4, 2); VI: parity, no edge (0, 0)."""
    expected = {1: (8, 2), 2: (4, 1), 3: (6, 2), 4: (6, 3), 5: (4, 2), 6: (0, 0)}
    for t, labels in SHEPARD_TYPES.items():
        labels = np.array(labels)
        same = ADJACENT & (labels[:, None] == labels[None])
        assert (same.sum() // 2, same.sum(1).max()) == expected[t], t
        assert labels.sum() == 4


def test_type_one_is_a_single_feature_rule_and_type_two_is_xor():
    labels1, labels2 = np.array(SHEPARD_TYPES[1]), np.array(SHEPARD_TYPES[2])
    assert (labels1 == CUBE[:, 0]).all()
    assert (labels2 == (CUBE[:, 0] != CUBE[:, 1])).all()


def test_blocks_show_each_stimulus_twice_and_keep_the_structure():
    g = torch.Generator().manual_seed(0)
    for t in SHEPARD_TYPES:
        x, y = shepard_tasks(t, num_tasks=20, num_blocks=5, generator=g)
        assert x.shape == (20, 80, 3) and y.shape == (20, 80)
        codes = (x @ torch.tensor([4.0, 2.0, 1.0])).long()
        for task in range(20):
            for block in codes[task].view(5, 16):
                assert torch.bincount(block, minlength=8).tolist() == [2] * 8
            labels = np.zeros(8, int)
            labels[codes[task].numpy()] = y[task].numpy()
            assert _canonical_key(labels) == _canonical_key(np.array(SHEPARD_TYPES[t]))


def test_johansen_palmeri_design():
    names, x = johansen_items()
    assert names[:9] == ["A1", "A2", "A3", "A4", "A5", "B1", "B2", "B3", "B4"] and len(names) == 16
    assert len({tuple(r) for r in x.tolist()}) == 16  # the 16 items are the whole 4-D cube
    a = x[:5].numpy()
    # category A is closest to the 0000 prototype on the first three dimensions, B to 1111: the 5-4 structure
    assert a[:, :3].sum() < x[5:9, :3].numpy().sum()


def test_smith_minda_design():
    x, y, prototypes = smith1998_design()
    assert x.shape == (14, 6) and y.tolist() == [0.0] * 7 + [1.0] * 7
    assert len({tuple(r) for r in x.tolist()}) == 14  # no stimulus in both categories
    codes = {"".join(str(int(v)) for v in r) for r in x.tolist()}
    assert {"111101", "000100", "111011", "000010"} <= codes  # Smith & Minda (1998), Table 1
    distance_to_own = (x - torch.tensor(prototypes)[y.long()]).abs().sum(1)
    assert distance_to_own[[0, 7]].tolist() == [0, 0]  # prototypes
    assert distance_to_own[[1, 2, 3, 4, 5, 8, 9, 10, 11, 12]].tolist() == [1] * 10  # one-bit variants
    assert distance_to_own[[6, 13]].tolist() == [5, 5]  # exceptions sit next to the other prototype
