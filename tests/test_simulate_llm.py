"""LLM baseline choices through the real SDK and the local Messages-API server: parsing, retries, invalid replies."""
import re

import pandas as pd
import pytest

from categorisation.baselines.llm import load_llm_choices
from categorisation.baselines.run_baselines import main as run_baselines
from categorisation.baselines.simulate_llm import main as simulate_main, parse_answer
from categorisation.experiments import HUMAN


@pytest.fixture
def small_badham(tmp_path):
    df = pd.read_csv(HUMAN / "badham2017deficits_first_participants.csv")
    df = df[df.participant.isin([0, 1]) & (df.groupby(["participant", "block"]).cumcount() < 4)]
    path = tmp_path / "small.csv"
    df.to_csv(path, index=False)
    return path


def question_letters(body):
    return re.findall(r"single letter (\w) or (\w)", body["messages"][-1]["content"])[0]


@pytest.mark.parametrize("text, expected", [("A", "A"), (" b.", "B"), ("Category A", "A"), ("**B**", "B"),
                                            ("A or B", None), ("", None), ("Banana", None), ("I think A", None),
                                            ("C", None)])
def test_parse_answer(text, expected):
    assert parse_answer(text, ("A", "B")) == expected


def test_human_mode_handles_malformed_and_truncated_replies(messages_server, small_badham, tmp_path):
    def reply(body):
        prompt = body["messages"][-1]["content"]
        a, _ = question_letters(body)
        if "Small White Triangle" in prompt.splitlines()[-1]:
            return "Let me think about this very carefully first"  # never a letter: invalid after retries
        return a

    messages_server.reply = reply
    messages_server.faults.extend(["truncated", "garbage"])  # an empty reply and a non-JSON body
    out = tmp_path / "llm.csv"
    simulate_main(["--backend", "anthropic", "--mode", "human", "--data", str(small_badham), "--output", str(out),
                   "--retries", "2", "--max-attempts", "3"])
    df = pd.read_csv(out, keep_default_na=False)
    hard = df.object == "Small White Triangle"
    assert hard.any() and (df.llm_choice[hard] == "").all() and (df.llm_attempts[hard] == 3).all()
    assert (df.llm_choice[~hard] == "j").all()  # first letter = 'j'; the truncated reply was re-asked
    assert len(df) == 32  # 2 participants x 4 problems x 4 trials
    prompts = [b["messages"][-1]["content"] for b in messages_server.requests]
    assert any("you picked" in p for p in prompts)
    data, llm = load_llm_choices(out)
    assert int(llm.isnan().sum() - (~data.mask).sum()) == int(hard.sum())
    fits = tmp_path / "fits.csv"
    run_baselines(["--model", "llm", "--data", str(out), "--output", str(fits)])
    fitted = pd.read_csv(fits)
    assert (fitted.k == 1).all() and (fitted.invalid == hard.groupby(df.participant).sum().to_numpy()).all()


def test_llm_mode_feeds_back_its_own_answers(messages_server, small_badham, tmp_path):
    messages_server.reply = lambda body: question_letters(body)[1]
    out = tmp_path / "llm.csv"
    simulate_main(["--backend", "anthropic", "--mode", "llm", "--data", str(small_badham), "--output", str(out)])
    df = pd.read_csv(out, keep_default_na=False)
    assert (df.llm_choice == "f").all()
    last = [b["messages"][-1]["content"] for b in messages_server.requests][-1]
    picked = re.findall(r"you picked (\w)", last)
    assert len(picked) == 3 and len(set(picked)) == 1  # three earlier trials of this problem, its own answers
