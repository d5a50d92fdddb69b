"""The meta-learner: a small causal transformer over trial tokens.

Token t is ``[x_t (num_dims features in [0, 1]), y_{t-1}]``; the first trial carries a neutral feedback of 0.5.
Position t may attend to tokens 0..t, so its output is the prediction for trial t given the features of trial t
and the labelled history before it. The Bernoulli head gives one logit per trial (categorisation, decision
making); the Gaussian head gives a mean and a log-variance (function learning).

Differences from the reference network (``nn.TransformerDecoder`` called with the sequence as both target and
memory): one causal self-attention per layer instead of self- plus cross-attention to the layer-0 embedding,
pre-LayerNorm with a final LayerNorm, a fused QKV projection and ``scaled_dot_product_attention``, and dropout on
the residual branches but not on the attention probabilities (sampling a [B, heads, T, T] mask cost 40 % of a CPU
step and forces the unfused attention kernel). The positional
encoding is computed on the fly, so one set of weights serves any sequence length.
"""
import math
import pickle
from dataclasses import asdict, dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

HEADS = {"bernoulli": 1, "gaussian": 2, "weights": None}  # weights: one output per feature (cue)


@dataclass
class ModelConfig:
    num_dims: int = 3
    d_model: int = 64
    num_layers: int = 6
    num_head: int = 8
    num_hidden: int = 256
    dropout: float = 0.1
    head: str = "bernoulli"

    def __post_init__(self):
        if self.head not in HEADS:
            raise ValueError(f"head must be one of {sorted(HEADS)}, got {self.head!r}")
        if self.d_model % self.num_head:
            raise ValueError(f"d_model={self.d_model} is not divisible by num_head={self.num_head}")


def sinusoidal_positions(length: int, d_model: int, device, dtype) -> torch.Tensor:
    """The Transformer paper's fixed encoding: sin on even, cos on odd channels."""
    position = torch.arange(length, device=device, dtype=torch.float32)[:, None]
    frequency = torch.exp(torch.arange(0, d_model, 2, device=device, dtype=torch.float32) * (-math.log(1e4) / d_model))
    pe = torch.zeros(length, d_model, device=device)
    pe[:, 0::2] = torch.sin(position * frequency)
    pe[:, 1::2] = torch.cos(position * frequency[: d_model // 2])
    return pe.to(dtype)


class CausalSelfAttention(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.num_head = cfg.num_head
        self.qkv = nn.Linear(cfg.d_model, 3 * cfg.d_model)
        self.proj = nn.Linear(cfg.d_model, cfg.d_model)

    def forward(self, h: torch.Tensor, mask=None) -> torch.Tensor:
        """Causal attention, or, with a boolean ``mask`` [T, T] (True: may attend), that pattern."""
        B, T, C = h.shape
        q, k, v = self.qkv(h).view(B, T, 3, self.num_head, C // self.num_head).permute(2, 0, 3, 1, 4)
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=mask is None)
        return self.proj(out.transpose(1, 2).reshape(B, T, C))


class Block(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.ln1 = nn.LayerNorm(cfg.d_model)
        self.attn = CausalSelfAttention(cfg)
        self.ln2 = nn.LayerNorm(cfg.d_model)
        self.ff = nn.Sequential(nn.Linear(cfg.d_model, cfg.num_hidden), nn.GELU(), nn.Linear(cfg.num_hidden, cfg.d_model))
        self.drop = nn.Dropout(cfg.dropout)

    def forward(self, h: torch.Tensor, mask=None) -> torch.Tensor:
        h = h + self.drop(self.attn(self.ln1(h), mask))
        return h + self.drop(self.ff(self.ln2(h)))


class MetaLearner(nn.Module):
    """Causal transformer mapping trial tokens [B, T, num_dims + 1] to per-trial outputs."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        self.embed = nn.Linear(cfg.num_dims + 1, cfg.d_model)
        self.drop = nn.Dropout(cfg.dropout)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.num_layers))
        self.ln_f = nn.LayerNorm(cfg.d_model)
        self.head = nn.Linear(cfg.d_model, HEADS[cfg.head] or cfg.num_dims)

    def forward(self, tokens: torch.Tensor, num_queries: int = 0) -> torch.Tensor:
        """Bernoulli and weights heads: logits [B, T]. Gaussian head: [B, T, 2] holding (mean, log-variance).

        ``num_queries=Q``: the last Q tokens are independent queries after the first C = T - Q (context) tokens.
        Each sits at position C, attends to the context and itself only, and gets exactly the output it would get
        as the last token of its own sequence ``context + [query]``; so Q test points cost one pass, not Q."""
        if tokens.shape[-1] != self.cfg.num_dims + 1:
            raise ValueError(f"tokens have {tokens.shape[-1]} channels; this model takes num_dims + 1 = {self.cfg.num_dims + 1}")
        if self.cfg.head == "weights":
            return (self.cue_weights(tokens) * tokens[..., :-1]).sum(-1)
        out = self.head(self.ln_f(self._hidden(tokens, num_queries)))
        return out.squeeze(-1) if self.cfg.head == "bernoulli" else out

    def _hidden(self, tokens: torch.Tensor, num_queries: int = 0) -> torch.Tensor:
        T = tokens.shape[1]
        positions = sinusoidal_positions(T - num_queries + 1, self.cfg.d_model, tokens.device, tokens.dtype)
        mask = None
        if num_queries:
            C = T - num_queries
            positions = torch.cat([positions[:C], positions[C:].expand(num_queries, -1)])
            index = torch.arange(T, device=tokens.device)
            mask = (index[None, :] <= index[:, None]) & ((index[None, :] < C) | (index[None, :] == index[:, None]))
        h = self.drop(self.embed(tokens) + positions[:T])
        for block in self.blocks:
            h = block(h, mask)
        return h

    def cue_weights(self, tokens: torch.Tensor) -> torch.Tensor:
        """Weights head: the cue weights w_t [B, T, K] of every trial, from the history before trial t only.

        The tokens are the usual [x_t, y_{t-1}]; the network reads them shifted, [x_{t-1}, y_{t-1}] (zeros before
        the first trial), so w_t cannot depend on x_t and P(y_t = 1) = sigmoid(w_t . x_t) is a linear strategy
        whose weights are readable trial by trial (DESIGN section 3)."""
        if self.cfg.head != "weights":
            raise ValueError(f"cue weights need the weights head; this model has a {self.cfg.head} head")
        x = tokens[..., :-1]
        history = torch.cat([torch.cat([torch.zeros_like(x[:, :1]), x[:, :-1]], dim=1), tokens[..., -1:]], dim=-1)
        return self.head(self.ln_f(self._hidden(history)))

    def choice_probability(self, tokens: torch.Tensor, beta: float = 1.0) -> torch.Tensor:
        """P(y_t = 1) = sigmoid(beta * logit_t); beta is a test-time inverse temperature, never stored."""
        return torch.sigmoid(beta * self(tokens))


def save_weights(path, model: MetaLearner, **extra):
    """Weights are a plain dict (config + state_dict), never a pickled module, so they outlive refactors."""
    torch.save({"config": asdict(model.cfg), "state_dict": model.state_dict(), **extra}, path)


def load_model(path, device="cpu") -> MetaLearner:
    try:
        blob = torch.load(path, map_location=device, weights_only=True)
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: no such model file") from None
    except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError) as err:
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ValueError(f"{path}: not an ERMI weight file (torch.load: {reason[:120]})") from None
    if not isinstance(blob, dict) or "config" not in blob or "state_dict" not in blob:
        raise ValueError(f"{path}: not an ERMI weight file (expected a dict with 'config' and 'state_dict')")
    model = MetaLearner(ModelConfig(**blob["config"])).to(device)
    model.load_state_dict(blob["state_dict"])
    return model.eval()
