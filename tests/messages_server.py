"""A small real HTTP server that speaks the Anthropic Messages API, for tests and benchmarks.

It runs on 127.0.0.1 (a free port) in a background thread, one thread per request, so the real SDK can be
driven through it with many requests in flight. Faults are injected per request, either from a queue
(``server.faults.extend(["429", "500"])``) or by a function ``fault(body, index) -> kind | None``:

  "429"        rate limited, with a ``retry-after`` header (``retry_after`` seconds)
  "500" "529"  server error / overloaded
  "400"        invalid request (not worth retrying)
  "garbage"    HTTP 200 whose body is not JSON
  "truncated"  a normal message whose text is cut in half, with stop_reason "max_tokens"
  "hang"       sleeps ``hang_seconds`` before answering (for client timeouts)

``reply(body) -> str`` makes the text of a normal answer (default: echoes the last user message). A request
with ``tools`` and a forced ``tool_choice`` is checked as the API checks it (the named tool must exist and have
an ``input_schema``; else 400); a reply that is a dict then comes back as that tool's ``tool_use`` input, a str
as text (a model that ignored the tool).
"""
import json
import random
import threading
import time
from collections import Counter, deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def echo(body):
    return str(body["messages"][-1]["content"])


def count_tokens(text):
    return max(1, len(str(text).split()))


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the SDK's connection pool expects
    disable_nagle_algorithm = True  # headers and body go out in two writes; Nagle + delayed ACK would stall 40 ms

    def log_message(self, *args):  # quiet
        pass

    def _send(self, status, payload, headers=None):
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        server = self.server.owner
        body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))) or b"{}")
        if self.path.split("?")[0] != "/v1/messages":
            return self._send(404, {"type": "error", "error": {"type": "not_found_error", "message": self.path}})
        kind, index = server._next_fault(body)
        try:
            self._answer(server, body, kind, index)
        finally:
            server._done()

    def _answer(self, server, body, kind, index):
        if server.latency:
            time.sleep(server.latency)
        if kind == "hang":
            time.sleep(server.hang_seconds)
        if kind == "400":
            return self._send(400, {"type": "error", "error": {"type": "invalid_request_error", "message": "bad"}})
        if kind == "429":
            return self._send(429, {"type": "error", "error": {"type": "rate_limit_error", "message": "slow down"}},
                              {"retry-after": str(server.retry_after), "x-should-retry": "true"})
        if kind in ("500", "529"):
            kinds = {"500": "api_error", "529": "overloaded_error"}
            return self._send(int(kind), {"type": "error", "error": {"type": kinds[kind], "message": "injected"}})
        if kind == "garbage":
            return self._send(200, b"<html>\x00not json at all")
        problem = _tool_problem(body)
        if problem:
            return self._send(400, {"type": "error", "error": {"type": "invalid_request_error", "message": problem}})
        text = server.reply(body)
        if isinstance(text, dict):
            return self._send_tool_use(server, body, index, text)
        words, stop = str(text).split(" "), "end_turn"
        if kind == "truncated":
            text, stop = " ".join(words[: len(words) // 2]), "max_tokens"
        elif len(words) > body.get("max_tokens", 1 << 30):
            text, stop = " ".join(words[: body["max_tokens"]]), "max_tokens"
        prompt = " ".join(str(m["content"]) for m in body.get("messages", []))
        server._record_success()
        self._send(200, {"id": f"msg_{index:06d}", "type": "message", "role": "assistant",
                         "content": [{"type": "text", "text": text}], "model": body.get("model", "test-model"),
                         "stop_reason": stop, "stop_sequence": None,
                         "usage": {"input_tokens": count_tokens(prompt), "output_tokens": count_tokens(text)}})


    def _send_tool_use(self, server, body, index, tool_input):
        server._record_success()
        block = {"type": "tool_use", "id": f"toolu_{index:06d}", "name": body["tool_choice"]["name"],
                 "input": tool_input}
        self._send(200, {"id": f"msg_{index:06d}", "type": "message", "role": "assistant", "content": [block],
                         "model": body.get("model", "test-model"), "stop_reason": "tool_use", "stop_sequence": None,
                         "usage": {"input_tokens": count_tokens(body["messages"]),
                                   "output_tokens": count_tokens(json.dumps(tool_input))}})


def _tool_problem(body):
    """What the API would refuse in a tool-use request, or None."""
    tools, choice = body.get("tools"), body.get("tool_choice")
    if tools is None and choice is None:
        return None
    names = {t.get("name") for t in tools or [] if isinstance(t.get("input_schema"), dict)}
    if len(names) != len(tools or []):
        return "tools: every tool needs a name and an input_schema object"
    if choice is not None and choice.get("type") == "tool" and choice.get("name") not in names:
        return f"tool_choice: no tool named {choice.get('name')!r}"
    return None


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # a class attribute: listen() runs in the constructor; 5 would drop bursts


class MessagesServer:
    def __init__(self, reply=echo, latency=0.0, fault=None, retry_after=0.05, hang_seconds=2.0):
        self.reply, self.latency, self.fault = reply, latency, fault
        self.retry_after, self.hang_seconds = retry_after, hang_seconds
        self.faults = deque()
        self.requests = []  # request bodies, in arrival order
        self.served = Counter()  # fault kind (or "ok") -> count
        self.in_flight = self.max_in_flight = 0
        self._lock = threading.Lock()
        self._httpd = _HTTPServer(("127.0.0.1", 0), _Handler)
        self._httpd.owner = self
        self._thread = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def _next_fault(self, body):
        with self._lock:
            index = len(self.requests)
            self.requests.append(body)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            kind = self.faults.popleft() if self.faults else None
            if kind is None and self.fault is not None:
                kind = self.fault(body, index)
            if kind is not None:
                self.served[kind] += 1
        return kind, index

    def _done(self):
        with self._lock:
            self.in_flight -= 1

    def _record_success(self):
        with self._lock:
            self.served["ok"] += 1

    def start(self):
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


if __name__ == "__main__":  # a stand-alone server in its own process (benchmarks, manual runs): prints its URL
    import argparse

    parser = argparse.ArgumentParser(description="Serve the Messages API on 127.0.0.1 (echo replies).")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds before each answer")
    parser.add_argument("--fault-rate", type=float, default=0.0, help="share of requests answered 429")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    server = MessagesServer(latency=args.latency, retry_after=0.0,
                            fault=lambda body, i: "429" if rng.random() < args.fault_rate else None)
    print(server.url, flush=True)
    try:
        server._httpd.serve_forever()
    except KeyboardInterrupt:
        pass
