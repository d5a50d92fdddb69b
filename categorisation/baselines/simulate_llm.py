"""Let an LLM do the Badham et al. (2017) category-learning task trial by trial, given each participant's history.

Each participant gets two random distinct capital letters as category names ('j' -> first, 'f' -> second). On
trial t the prompt holds the instructions, the history of the current problem (it resets with every problem, as
in the reference) and the question. History modes (reference section 5.5):
  human      - "you picked <the human's choice>; <correct> was correct"  (used to fit the LLM baseline)
  llm        - the same with the LLM's own earlier answers (trial t waits for trial t-1)
  match_ermi - "you saw <object>, which belonged to <correct>" (feedback only, like the meta-learner's input)
Participants are batched: one generate() call per trial step (llm mode) or one for every trial (other modes).
A reply that is not one of the two letters is asked again (``--retries``, new seed) and then recorded as invalid;
it never stops the run. Every raw reply is logged (JSONL) and reused on a rerun, so a killed run resumes
without paying twice. Output: the human rows plus llm_category, true_category, llm_choice ('j'/'f'/empty),
llm_reply and llm_attempts, which run_baselines.py --model llm reads.

  python categorisation/baselines/simulate_llm.py --mode human --backend anthropic
"""
import argparse
import hashlib
import json
import re
import string
import time
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from categorisation.experiments import DATA, badham_path, load_badham2017
from ermi.llm import LLMError, add_backend_args, backend_from_args
from ermi.paths import ensure_parent, write_sidecar

MODES = ("human", "llm", "match_ermi")
INSTRUCTIONS = ("In this experiment you will see geometric objects. Each object is small or big, white or black, "
                "and a triangle or a square. Every object belongs to one of two categories, {a} or {b}. On each "
                "trial you say which category the object belongs to and then learn which category was correct. "
                "Try to get as many right as you can. When a new problem starts, the categories are defined anew.")


def category_letters(participants, seed):
    """Two distinct random capital letters per participant, reproducible from the seed."""
    rng = np.random.default_rng(seed)
    return {int(p): tuple(rng.choice(list(string.ascii_uppercase), 2, replace=False)) for p in participants}


def history_line(mode, obj, correct, picked):
    if mode == "match_ermi":
        return f"You saw a {obj}, which belonged to category {correct}."
    said = f"you picked {picked}" if picked else "you gave no valid answer"
    return f"You saw a {obj}; {said}; category {correct} was correct."


def build_prompt(letters, history, obj):
    a, b = letters
    lines = [INSTRUCTIONS.format(a=a, b=b), "", "Current problem so far:" if history else "A new problem starts now."]
    lines += history
    lines += ["", f"Which category does a {obj} belong to? Answer with the single letter {a} or {b}."]
    return "\n".join(lines)


def parse_answer(text, letters):
    """The category letter in a reply, or None: accepts 'A', ' a.', 'Category A', '**B**'; rejects replies that
    name both letters, neither, or anything else (empty, truncated, prose)."""
    if not text:
        return None
    found = {c.upper() for c in re.findall(r"\b([A-Za-z])\b", text) if c.upper() in letters}
    words = re.findall(r"[A-Za-z]+", text)
    filler = {"category", "answer", "the", "is", "group", "it", "belongs", "to"}
    if len(found) == 1 and all(w.upper() in letters or w.lower() in filler for w in words):
        return found.pop()
    return None


class ReplyCache:
    """Every raw reply, appended to a JSONL file as it arrives, keyed by (model, attempt, prompt): a rerun after a
    crash or kill reuses what was paid for. Failed requests are not stored, so a rerun asks them again."""

    def __init__(self, path=None):
        self.path, self.replies = path, {}
        if path and Path(path).exists():
            for line in Path(path).read_text().splitlines():
                try:
                    record = json.loads(line)
                    self.replies[record["key"]] = record["text"]
                except (json.JSONDecodeError, KeyError, TypeError):  # a line cut short by a kill
                    continue

    @staticmethod
    def key(model, attempt, prompt):
        return hashlib.sha256(f"{model}|{attempt}|{prompt}".encode()).hexdigest()

    def add(self, key, reply):
        if reply.error is not None:
            return
        self.replies[key] = reply.text
        if self.path:
            with open(self.path, "a") as f:
                f.write(json.dumps({"key": key, "text": reply.text, "model": reply.model}) + "\n")


def ask(backend, prompts, letters, max_tokens, temperature, seed, retries, cache):
    """Replies for a batch of prompts, re-asking those without a valid letter: (answers, raw texts, attempts)."""
    answers, texts, attempts = [None] * len(prompts), [""] * len(prompts), [0] * len(prompts)
    todo = list(range(len(prompts)))
    model = getattr(backend, "model", "")
    for attempt in range(retries + 1):
        if not todo:
            break
        keys = {i: cache.key(model, attempt, prompts[i]) for i in todo}
        missing = [i for i in todo if keys[i] not in cache.replies]
        errors = {}

        def store(j, reply):
            cache.add(keys[missing[j]], reply)
            if reply.error is not None:
                errors[missing[j]] = reply.error

        if missing:
            backend.generate([prompts[i] for i in missing], max_tokens=max_tokens, temperature=temperature,
                             seed=seed + 7919 * attempt, on_reply=store)
        still = []
        for i in todo:
            attempts[i] += 1
            if i in errors:
                texts[i], answers[i] = f"[error] {errors[i]}", None
            else:
                texts[i] = cache.replies[keys[i]]
                answers[i] = parse_answer(texts[i], letters[i])
            if answers[i] is None:
                still.append(i)
        todo = still
    return answers, texts, attempts


def simulate(df, backend, mode, seed=0, retries=2, max_tokens=5, temperature=None, cache=None):
    """Adds the LLM's answers to a Badham data frame (one row per trial)."""
    cache = cache or ReplyCache()
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    df = df.sort_values(["participant", "block", "trial"], kind="stable").reset_index(drop=True)
    letters = category_letters(df.participant.unique(), seed)
    names = [letters[int(p)] for p in df.participant]
    correct = [n[0] if c == "j" else n[1] for n, c in zip(names, df.correct_choice)]
    human = [n[0] if c == "j" else n[1] for n, c in zip(names, df.choice)]
    position = df.groupby(["participant", "block"]).cumcount().to_numpy()
    start = np.arange(len(df)) - position  # first row of each row's problem (rows of a problem are contiguous)
    answers, texts, attempts = [None] * len(df), [""] * len(df), [0] * len(df)

    def prompt(i):
        picked = human if mode == "human" else answers
        history = [history_line(mode, df.object[j], correct[j], picked[j]) for j in range(start[i], i)]
        return build_prompt(names[i], history, df.object[i])

    if mode == "llm":  # trial t of every problem waits for the LLM's answer on trial t - 1
        steps = [np.flatnonzero(position == t) for t in range(position.max() + 1)]
    else:
        steps = [np.arange(len(df))]
    for step, rows in enumerate(tqdm(steps, desc=f"LLM ({mode})", disable=len(steps) == 1)):
        got, raw, tries = ask(backend, [prompt(i) for i in rows], [names[i] for i in rows], max_tokens, temperature,
                              seed + step, retries, cache)
        for i, a, t, n in zip(rows, got, raw, tries):
            answers[i], texts[i], attempts[i] = a, t, n
    out = df.assign(llm_category=[a or "" for a in answers], true_category=correct,
                    llm_choice=["" if a is None else ("j" if a == n[0] else "f") for a, n in zip(answers, names)],
                    llm_reply=texts, llm_attempts=attempts)
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mode", choices=MODES, default="human")
    parser.add_argument("--data", default=None, help="Badham-format CSV (default: badham_path())")
    parser.add_argument("--participants", type=int, nargs="*", default=None, help="ids to run (default: all)")
    parser.add_argument("--max-trials", type=int, default=None, help="first N trials of every problem (for demos)")
    parser.add_argument("--retries", type=int, default=2, help="re-asks when a reply is not one of the letters")
    parser.add_argument("--output", default=None,
                        help="default: categorisation/data/llm/badham2017_llm_choices_<mode>.csv")
    parser.add_argument("--replies", default=None,
                        help="raw-reply log reused on reruns (default: <output>.replies.jsonl)")
    add_backend_args(parser, default_backend="local", max_tokens=5)
    args = parser.parse_args(argv)

    started = time.time()
    path = args.data or badham_path()
    load_badham2017(path)  # validates the file; errors are one line
    df = pd.read_csv(path)
    if args.participants:
        df = df[df.participant.isin(args.participants)]
    if args.max_trials:
        df = df[df.groupby(["participant", "block"]).cumcount() < args.max_trials]
    if df.empty:
        raise ValueError("no trials selected")
    output = ensure_parent(args.output or DATA / "llm" / f"badham2017_llm_choices_{args.mode}.csv")
    cache = ReplyCache(args.replies or f"{output}.replies.jsonl")
    backend = backend_from_args(args)
    out = simulate(df, backend, args.mode, args.seed, args.retries, args.max_length, args.temperature, cache)
    out.to_csv(output, index=False)
    invalid = int((out.llm_choice == "").sum())
    write_sidecar(output, started, mode=args.mode, backend=args.backend, model=getattr(backend, "model", None),
                  seed=args.seed, retries=args.retries, invalid=invalid, data=str(path))
    agree = (out.llm_choice == out.choice)[out.llm_choice != ""].mean()
    print(f"{len(out)} trials, {invalid} invalid, LLM agrees with the human on {agree:.3f} of valid trials, "
          f"accuracy {(out.llm_choice == out.correct_choice)[out.llm_choice != ''].mean():.3f} -> {output}")


if __name__ == "__main__":
    try:
        main()
    except (ValueError, FileNotFoundError, LLMError) as err:
        raise SystemExit(f"error: {err}")
