"""Training throughput (episodes/s) of the paper config, ours vs the reference's way of building the network.

The reference calls ``nn.TransformerDecoder`` with the embedded sequence as both target and memory (causal self-
plus cross-attention, float masks, dropout on attention weights). Both steps here draw the same batches from our
vectorised sampler, so the table compares the network steps alone (the reference's pandas batch sampling, which
was slower still, is not counted).

    python benchmarks/bench_training.py [--batch 64] [--trials 100] [--steps 10]
"""
import argparse
import time

import torch
import torch.nn as nn

from ermi.episodes import LinearPrior, PriorSampler
from ermi.model import MetaLearner, ModelConfig, sinusoidal_positions
from ermi.training import episode_loss


class ReferenceStyleDecoder(nn.Module):
    """Same size as the paper config, built the reference's way (for this comparison only)."""

    def __init__(self, num_dims=3, d_model=64, num_head=8, num_hidden=256, num_layers=6, dropout=0.1):
        super().__init__()
        self.embed = nn.Linear(num_dims + 1, d_model)
        self.drop = nn.Dropout(dropout)
        layer = nn.TransformerDecoderLayer(d_model, num_head, num_hidden, dropout, batch_first=True)
        self.decoder = nn.TransformerDecoder(layer, num_layers)
        self.head = nn.Linear(d_model, 1)

    def forward(self, tokens):
        T = tokens.shape[1]
        h = self.drop(self.embed(tokens) + sinusoidal_positions(T, self.embed.out_features, tokens.device, tokens.dtype))
        mask = nn.Transformer.generate_square_subsequent_mask(T, device=tokens.device)
        return self.head(self.decoder(h, h, tgt_mask=mask, memory_mask=mask)).squeeze(-1)


def throughput(model, sampler, batch, steps, generator):
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-4)
    model.train()
    for i in range(steps + 2):
        if i == 2:
            started = time.perf_counter()
        loss = episode_loss(model, sampler.sample(batch, generator))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    return steps * batch / (time.perf_counter() - started)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--steps", type=int, default=10)
    args = parser.parse_args()
    torch.manual_seed(0)
    sampler = PriorSampler(LinearPrior(3), args.trials)
    g = torch.Generator().manual_seed(0)
    ours = MetaLearner(ModelConfig())
    reference = ReferenceStyleDecoder()
    params = lambda m: sum(p.numel() for p in m.parameters())
    rows = [("ermi MetaLearner (SDPA, causal self-attention)", params(ours), throughput(ours, sampler, args.batch, args.steps, g)),
            ("reference-style nn.TransformerDecoder", params(reference), throughput(reference, sampler, args.batch, args.steps, g))]
    print(f"training throughput, batch {args.batch} x {args.trials} trials, {torch.get_num_threads()} threads")
    print(f"{'network':50s} {'params':>9s} {'episodes/s':>11s} {'steps/s':>8s}")
    for name, n, eps in rows:
        print(f"{name:50s} {n:9d} {eps:11.1f} {eps / args.batch:8.2f}")
    print(f"speed-up: {rows[0][2] / rows[1][2]:.2f}x")


if __name__ == "__main__":
    main()
