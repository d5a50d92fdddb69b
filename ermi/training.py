"""One meta-training loop for every domain.

Checkpoints hold the model config, state_dict, optimizer, step, history and every RNG state, so ``resume=True``
continues bit-for-bit. Under ``torchrun`` the loop runs DistributedDataParallel (gloo on CPU, nccl on CUDA): every
rank draws the same global batch from the same generator and trains on its own slice, so ranks see different tasks
and the run is equivalent to one process with the global batch.
"""
import json
import math
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.distributed as dist
import torch.nn.functional as F
from tqdm import tqdm

from ermi.episodes import CorpusError, Episode, NoisySampler, episode, load_corpus
from ermi.model import MetaLearner, ModelConfig
from ermi.paths import REPO_ROOT, device_or_default, ensure_parent, file_sha256, repo_relative


@dataclass
class TrainConfig:
    num_episodes: int = 1000
    batch_size: int = 64
    lr: float = 3e-4
    weight_decay: float = 0.0
    save_every: int = 100
    print_every: int = 10
    seed: int = 0
    device: str = "cpu"
    patience: int = 0  # stop after this many validations without a new lowest val loss (0: run all steps)


# Settings a resumed run must share with its checkpoint (num_episodes may grow; logging intervals may change).
RESUME_MUST_MATCH = ("batch_size", "lr", "weight_decay", "seed")


def episode_loss(model, ep: Episode) -> torch.Tensor:
    """Mean loss over real (unpadded) trials: BCE for a Bernoulli head, Gaussian NLL for a Gaussian head."""
    out = model(ep.tokens)
    if out.dim() == 2:
        return F.binary_cross_entropy_with_logits(out[ep.mask], ep.targets[ep.mask])
    mean, log_var = out[..., 0][ep.mask], out[..., 1][ep.mask]
    return 0.5 * (log_var + (ep.targets[ep.mask] - mean) ** 2 / log_var.exp() + math.log(2 * math.pi)).mean()


@torch.no_grad()
def evaluate(model, ep: Episode, chunk=256) -> dict:
    """Loss and greedy accuracy on a fixed episode, with the live model in eval mode."""
    was_training = model.training
    model.eval()
    bernoulli = model.cfg.head in ("bernoulli", "weights")  # binary choices; else real targets
    losses, score, n = 0.0, 0.0, 0
    for start in range(0, len(ep.tokens), chunk):
        part = Episode(*(t[start:start + chunk] for t in (ep.tokens, ep.targets, ep.mask)))
        count = int(part.mask.sum())
        losses += float(episode_loss(model, part)) * count
        out = model(part.tokens)
        if bernoulli:
            score += float(((out > 0).float() == part.targets)[part.mask].sum())
        else:
            score += float(((out[..., 0] - part.targets) ** 2)[part.mask].sum())
        n += count
    model.train(was_training)
    nan = float("nan")
    return {"val_loss": losses / n, "val_acc": score / n if bernoulli else nan, "val_mse": nan if bernoulli else score / n}


# Under torchrun each process takes the GPU of its LOCAL_RANK before any tensor is made, so that "cuda" (samplers,
# corpora, models) means this process's own GPU rather than every rank sharing GPU 0. (More ranks than GPUs can
# only train on CPU, with --device cpu.)
_LOCAL_RANK = int(os.environ.get("LOCAL_RANK", "0"))
if int(os.environ.get("WORLD_SIZE", "1")) > 1 and _LOCAL_RANK < torch.cuda.device_count():
    torch.cuda.set_device(_LOCAL_RANK)


def _distributed(device: str):
    if int(os.environ.get("WORLD_SIZE", "1")) > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if torch.device(device).type == "cuda" else "gloo")
    if dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def _rng_state(generator):
    state = {"torch": torch.get_rng_state(), "generator": generator.get_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state, generator):
    torch.set_rng_state(state["torch"])
    generator.set_state(state["generator"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def _atomic_save(obj, path):
    tmp = f"{path}.tmp"
    torch.save(obj, tmp)
    os.replace(tmp, path)


def train(model_cfg: ModelConfig, cfg: TrainConfig, sampler, val_episode: Episode, checkpoint_path,
          resume=False, extra=None, progress=True) -> dict:
    """Train a MetaLearner; returns the final checkpoint dict. ``extra`` (e.g. corpus provenance) is stored."""
    rank, world = _distributed(cfg.device)
    if cfg.batch_size % world:
        raise ValueError(f"batch_size {cfg.batch_size} is not divisible by the {world} processes")
    device = torch.device(cfg.device)
    torch.manual_seed(cfg.seed)
    generator = torch.Generator(device=device).manual_seed(cfg.seed)
    model = MetaLearner(model_cfg).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    step, history, best = 0, [], None  # best: the weights with the lowest validation loss so far
    if resume and os.path.exists(checkpoint_path):
        ckpt = torch.load(checkpoint_path, map_location=device, weights_only=False)
        if ckpt["config"] != asdict(model_cfg):
            raise ValueError(f"{checkpoint_path}: checkpoint config {ckpt['config']} differs from {asdict(model_cfg)}")
        changed = {k: (ckpt["train"][k], v) for k, v in asdict(cfg).items()
                   if k in RESUME_MUST_MATCH and ckpt["train"][k] != v}
        if changed:
            raise ValueError(f"{checkpoint_path}: cannot resume bit-for-bit with changed settings "
                             + ", ".join(f"{k} {old} -> {new}" for k, (old, new) in changed.items()))
        model.load_state_dict(ckpt["state_dict"])
        optimizer.load_state_dict(ckpt["optimizer"])
        _set_rng_state(ckpt["rng"], generator)
        step, history, best = ckpt["step"], ckpt["history"], ckpt.get("best")
    net = torch.nn.parallel.DistributedDataParallel(model) if world > 1 else model
    val_episode = Episode(val_episode.tokens.to(device), val_episode.targets.to(device), val_episode.mask.to(device))
    per_rank = cfg.batch_size // world

    def checkpoint():
        return {"config": asdict(model_cfg), "train": asdict(cfg), "state_dict": model.state_dict(),
                "optimizer": optimizer.state_dict(), "rng": _rng_state(generator), "step": step,
                "history": history, "best": best, **(extra or {})}

    def plateaued():
        """True once `patience` validations in a row have not beaten the best validation loss."""
        return cfg.patience > 0 and best is not None and len(history) - best["evaluation"] >= cfg.patience

    bar = tqdm(total=cfg.num_episodes, initial=step, disable=not progress or rank != 0, desc="meta-training",
               unit="ep", dynamic_ncols=True)
    model.train()
    # seconds in the history count training time across resumed runs
    started, running = time.time() - (history[-1]["seconds"] if history else 0.0), []
    while step < cfg.num_episodes and not plateaued():
        ep = sampler.sample(cfg.batch_size, generator, step)
        mine = slice(rank * per_rank, (rank + 1) * per_rank)
        loss = episode_loss(net, Episode(ep.tokens[mine], ep.targets[mine], ep.mask[mine]))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        step += 1
        if world > 1:
            loss = loss.detach().clone()
            dist.all_reduce(loss)
            loss /= world
        running.append(loss.item())
        bar.update(1)
        if step % cfg.print_every == 0 or step == cfg.num_episodes:
            bar.set_postfix(loss=f"{sum(running) / len(running):.4f}", **({"val_loss": f"{history[-1]['val_loss']:.4f}"} if history else {}))
        if step % cfg.save_every == 0 or step == cfg.num_episodes:
            record = {"step": step, "loss": sum(running) / len(running), **evaluate(model, val_episode),
                      "seconds": time.time() - started}
            history.append(record)
            if best is None or record["val_loss"] < best["val_loss"]:
                best = {"step": step, "evaluation": len(history), "val_loss": record["val_loss"],
                        "val_acc": record["val_acc"],
                        "state_dict": {k: v.detach().clone() for k, v in model.state_dict().items()}}
            running = []
            bar.set_postfix(loss=f"{record['loss']:.4f}", val_loss=f"{record['val_loss']:.4f}")
            if rank == 0:
                _atomic_save(checkpoint(), checkpoint_path)
    bar.close()
    if plateaued() and rank == 0:
        print(f"stopped at step {step}: validation loss has not improved for {cfg.patience} evaluations since "
              f"step {best['step']} ({best['val_loss']:.4f})")
    if world > 1:
        dist.barrier()
    return checkpoint()


def add_training_args(parser, num_episodes=20000, max_steps=250, batch_size=64):
    """Flags shared by every domain's train_transformer.py (the reference's names, plus --resume)."""
    parser.add_argument("--num-episodes", type=int, default=num_episodes, help="gradient steps (one batch each)")
    parser.add_argument("--max-steps", type=int, default=max_steps, help="longest task kept (trials)")
    parser.add_argument("--batch_size", "--batch-size", type=int, default=batch_size)
    parser.add_argument("--num_hidden", "--num-hidden", type=int, default=256, help="feed-forward width")
    parser.add_argument("--num_layers", "--num-layers", type=int, default=6)
    parser.add_argument("--d_model", "--d-model", type=int, default=64)
    parser.add_argument("--num_head", "--num-head", type=int, default=8)
    parser.add_argument("--dropout", type=float, default=0.1)
    parser.add_argument("--lr", type=float, default=3e-4)
    parser.add_argument("--noise", type=float, default=0.0, help="label-flip probability during training")
    parser.add_argument("--first-run-id", type=int, default=0, help="run id, part of the checkpoint name and seed")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--save-every", type=int, default=500, help="checkpoint + validation interval")
    parser.add_argument("--print-every", type=int, default=50)
    parser.add_argument("--save-dir", default=None, help="checkpoint folder (default: <domain>/checkpoints)")
    parser.add_argument("--output", default=None, help="also write final weights (+ .json model card) here")
    parser.add_argument("--device", default=None, help="cpu or cuda (default: cuda if available)")
    parser.add_argument("--resume", action="store_true", help="continue bit-for-bit from the checkpoint")
    parser.add_argument("--num-val-tasks", type=int, default=256)
    parser.add_argument("--patience", type=int, default=0,
                        help="early stopping: stop after this many validations (--save-every apart) without a lower "
                             "validation loss; the shipped weights are those of the lowest one (0: off)")
    return parser


def corpus_paths(names, folder) -> list:
    """Each name is a corpus file (a path, with or without .csv) or a file stem under ``folder``."""
    paths = []
    for name in names:
        candidates = [Path(name), Path(f"{name}.csv"), Path(folder) / name, Path(folder) / f"{name}.csv"]
        found = next((p for p in candidates if p.is_file()), None)
        if found is None:
            raise CorpusError(f"{name}: no such corpus (looked for {', '.join(map(str, candidates))})")
        paths.append(found)
    return paths


def prior_validation(sampler, args) -> Episode:
    """The validation episode of a run on a synthetic prior: --num-val-tasks tasks drawn with seed 10,000 + --seed,
    fixed, so a resumed run validates on the same tasks."""
    tasks = sampler.taskset(args.num_val_tasks, seed=10_000 + args.seed)
    return episode(tasks.x, tasks.y, tasks.lengths)


def split_corpus(tasks, paths, split_seed=0):
    """Train / val / test TaskSets (80/10/10 by task, seeded) and their provenance for the model card: corpus
    files and hashes, split sizes, dropped tasks, and the held-out (val, test) task ids by file."""
    train_set, val_set, test_set = tasks.split(seed=split_seed)
    if len(val_set) == 0:
        train_set = val_set = tasks
        print(f"warning: {', '.join(map(str, paths))} has only {len(tasks)} usable task(s), too few to split; "
              f"training and validating on all of them")
    provenance = {"corpus": [repo_relative(p) for p in paths], "corpus_sha256": [file_sha256(p) for p in paths],
                  "num_tasks": len(tasks), "num_train_tasks": len(train_set), "num_val_tasks": len(val_set),
                  "num_test_tasks": len(test_set), "split_seed": split_seed, "dropped_tasks": tasks.dropped,
                  "val_tasks": val_set.described(), "test_tasks": test_set.described()}
    print(f"{', '.join(p.name for p in paths)}: {len(tasks)} tasks ({len(train_set)} train / {len(val_set)} val / "
          f"{len(test_set)} test), {tasks.num_dims} features; dropped: {tasks.dropped or 'none'}")
    return train_set, val_set, test_set, provenance


def heldout_tasks(card_path, binary=True):
    """The test split recorded in a model card, loaded from the card's corpus files (checked by SHA-256), so a
    held-out evaluation scores exactly the tasks the model never trained or validated on."""
    card = json.loads(Path(card_path).read_text())
    if not card.get("test_tasks"):
        raise CorpusError(f"{card_path}: the model card records no test tasks (train with a corpus, not a prior)")
    paths = [REPO_ROOT / p for p in card["corpus"]]
    for path, digest in zip(paths, card["corpus_sha256"]):
        if file_sha256(path) != digest:
            raise CorpusError(f"{path}: differs from the file the model was trained on (SHA-256 mismatch)")
    tasks = load_corpus(paths, num_dims=card["config"]["num_dims"], binary=binary)
    wanted = {(source, task_id) for source, ids in card["test_tasks"].items() for task_id in ids}
    keep = [i for i, key in enumerate(zip(tasks.sources, tasks.task_ids)) if key in wanted]
    if len(keep) != len(wanted):
        raise CorpusError(f"{card_path}: {len(wanted) - len(keep)} recorded test task(s) are not in the corpus")
    return tasks.subset(keep)


# Provenance a resumed run must share with its checkpoint (what the training data are).
RESUME_DATA_MUST_MATCH = ("prior", "repeat_stimuli", "repeat_until", "corpus_sha256", "split_seed", "condition")


def run_training(parser, args, build_data, domain_dir, head="bernoulli", run_name="synthetic", **card_fields):
    """The body of every domain's train_transformer.py: data (``build_data(args, device)`` returns sampler,
    validation Episode, num_dims, provenance), model and training configs from the shared flags, a checkpoint
    named ``{run_name}_{prior}_dim{D}_run{id}.ckpt`` under --save-dir, resume checks, training, and the weights +
    model card at --output."""
    device = device_or_default(args.device)
    try:
        sampler, val_episode, num_dims, provenance = build_data(args, device)
    except (CorpusError, ValueError) as err:
        parser.exit(2, f"error: {err}\n")
    if args.noise > 0:
        sampler = NoisySampler(sampler, args.noise)
    model_cfg = ModelConfig(num_dims=num_dims, d_model=args.d_model, num_layers=args.num_layers,
                            num_head=args.num_head, num_hidden=args.num_hidden, dropout=args.dropout, head=head)
    train_cfg = TrainConfig(num_episodes=args.num_episodes, batch_size=args.batch_size, lr=args.lr,
                            save_every=args.save_every, print_every=args.print_every,
                            seed=args.seed + 1000 * args.first_run_id, device=device, patience=args.patience)
    save_dir = Path(args.save_dir or Path(domain_dir) / "checkpoints")
    checkpoint = ensure_parent(save_dir / f"{run_name}_{provenance['prior']}_dim{num_dims}_run{args.first_run_id}.ckpt")
    if args.resume and checkpoint.exists():
        before = torch.load(checkpoint, map_location="cpu", weights_only=False).get("provenance", {})
        changed = [k for k in RESUME_DATA_MUST_MATCH if before.get(k) != provenance.get(k)]
        if changed:
            parser.exit(2, f"error: {checkpoint}: cannot resume with changed --{changed[0].replace('_', '-')} "
                           f"({before.get(changed[0])} -> {provenance.get(changed[0])})\n")
    started = time.time()
    ckpt = train(model_cfg, train_cfg, sampler, val_episode, checkpoint, resume=args.resume,
                 extra={"provenance": provenance})
    if dist.is_initialized() and dist.get_rank() != 0:
        return
    last = ckpt["history"][-1]
    score = f"val acc {last['val_acc']:.3f}" if last["val_acc"] == last["val_acc"] else f"val MSE {last['val_mse']:.4f}"
    print(f"checkpoint {checkpoint}: step {ckpt['step']}, loss {last['loss']:.4f}, val loss {last['val_loss']:.4f}, "
          f"{score} ({time.time() - started:.0f} s this run)")
    if args.output:
        write_model_card(args.output, ckpt, **provenance, max_steps=args.max_steps, noise=args.noise, **card_fields)
        print(f"weights {args.output} (+ model card)")


def write_model_card(output, ckpt: dict, **fields):
    """Shipped weights: config + state_dict + step (no optimizer), and a JSON card beside them. With early stopping
    (patience > 0) the weights are those of the lowest validation loss, and the card says which step that was."""
    output = ensure_parent(output)
    last = ckpt["history"][-1] if ckpt["history"] else {}
    best = ckpt.get("best") if ckpt["train"].get("patience") else None
    if best:
        last = next(h for h in ckpt["history"] if h["step"] == best["step"])
    state_dict, step = (best["state_dict"], best["step"]) if best else (ckpt["state_dict"], ckpt["step"])
    torch.save({"config": ckpt["config"], "state_dict": state_dict, "step": step}, output)
    metric = "val_mse" if ckpt["config"].get("head") == "gaussian" else "val_acc"  # accuracy for binary choices
    card = {"weights": Path(output).name, "config": ckpt["config"], "train": ckpt["train"], "steps": step,
            **({"steps_trained": ckpt["step"], "weights_from": "lowest validation loss"} if best else {}),
            "final_loss": last.get("loss"), "val_loss": last.get("val_loss"), metric: last.get(metric),
            "train_seconds": ckpt["history"][-1]["seconds"] if ckpt["history"] else None,
            "num_parameters": sum(v.numel() for v in state_dict.values()),
            **fields, "learning_curve": {"columns": ["step", "loss", "val_loss", metric],
                                         "rows": [[h["step"], round(h["loss"], 4), round(h["val_loss"], 4),
                                                   round(h.get(metric, float("nan")), 4)] for h in ckpt["history"]]}}
    Path(f"{Path(output).with_suffix('')}.json").write_text(json.dumps(card, indent=2, default=str) + "\n")
    return card
