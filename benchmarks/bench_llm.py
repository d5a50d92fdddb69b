"""Throughput of the anthropic backend (real SDK, our retry loop and semaphore) against the local Messages-API
server with a fixed latency per request. The ceiling is concurrency / latency (16 / 0.2 s = 80 requests/s); the
target is 80 % of it. The server runs in its own process, as a real API would, so it does not share our GIL.
A second run answers 10 % of requests with 429, to show what retries cost.

    python benchmarks/bench_llm.py --requests 800 --latency 0.2 --concurrency 16
"""
import argparse
import subprocess
import sys
import time
from pathlib import Path

from ermi.llm import AnthropicBackend

SERVER = Path(__file__).resolve().parent.parent / "tests" / "messages_server.py"


def measure(requests, latency, concurrency, fault_rate=0.0):
    server = subprocess.Popen([sys.executable, str(SERVER), "--latency", str(latency), "--fault-rate", str(fault_rate)],
                              stdout=subprocess.PIPE, text=True)
    try:
        url = server.stdout.readline().strip()
        backend = AnthropicBackend(model="bench", api_key="bench", base_url=url, concurrency=concurrency,
                                   backoff_base=0.05, backoff_cap=0.2)
        backend.generate(["warm-up"], max_tokens=8)  # imports the SDK once, outside the clock
        backend.retries.clear()
        started = time.perf_counter()
        replies = backend.generate([f"prompt {i}" for i in range(requests)], max_tokens=64)
        seconds = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait()
    return {"requests": requests, "seconds": seconds, "rps": requests / seconds,
            "failed": sum(r.error is not None for r in replies), "retries": sum(backend.retries.values()),
            "why": dict(backend.retries)}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--requests", type=int, default=800)
    p.add_argument("--latency", type=float, default=0.2, help="seconds the server waits before each answer")
    p.add_argument("--concurrency", type=int, default=16)
    p.add_argument("--fault-rate", type=float, default=0.1, help="share of requests answered 429 in the second run")
    args = p.parse_args()
    ceiling = args.concurrency / args.latency
    rows = [("no faults", measure(args.requests, args.latency, args.concurrency)),
            (f"{args.fault_rate:.0%} 429s", measure(args.requests, args.latency, args.concurrency, args.fault_rate))]
    print(f"anthropic backend vs local Messages-API server: latency {args.latency * 1000:.0f} ms, "
          f"concurrency {args.concurrency}, ceiling {ceiling:.0f} req/s, target >= {0.8 * ceiling:.0f} req/s")
    print(f"{'run':<12} {'requests':>8} {'seconds':>8} {'req/s':>7} {'% ceiling':>9} {'retries':>7} {'failed':>6}")
    for name, r in rows:
        print(f"{name:<12} {r['requests']:>8d} {r['seconds']:>8.2f} {r['rps']:>7.1f} {r['rps'] / ceiling:>9.0%} "
              f"{r['retries']:>7d} {r['failed']:>6d}  {r['why'] or ''}")
    ok = rows[0][1]["rps"] >= 0.8 * ceiling
    print("PASS" if ok else "BELOW TARGET", f"({rows[0][1]['rps']:.1f} req/s without faults)")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
