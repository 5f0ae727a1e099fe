"""Benchmark: how long `bulkhead serve` takes from spawn to an answered tools/list, with
an empty compiled-plugin cache (first start: compiles every plugin) and with a warm one
(later starts: loads the cached artifacts), and how much memory the server holds then.

Figures are medians of interleaved runs in one invocation, reported with their ratio:
these machines are shared and noisy, so only the ratio is meant to travel.

Usage: python3 scripts/bench-startup.py /path/to/bulkhead [RUNS]
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time


def start_once(binary: str, cache_dir: str) -> tuple[float, int]:
    """Seconds from spawn to the tools/list answer, and the server's peak RSS in KiB."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        [binary, "serve", "--cache-dir", cache_dir],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env={"BULKHEAD_LOG": "warn", "PATH": "/usr/bin:/bin"},
    )
    assert proc.stdin and proc.stdout
    messages = [
        {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {},
            "clientInfo": {"name": "bench", "version": "0"}}},
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
    ]
    for message in messages:
        proc.stdin.write((json.dumps(message) + "\n").encode())
    proc.stdin.flush()
    while True:
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError("server closed stdout before answering tools/list")
        if json.loads(line).get("id") == 2:
            break
    elapsed = time.perf_counter() - started
    with open(f"/proc/{proc.pid}/status", encoding="ascii") as status:
        peak_kib = next(int(l.split()[1]) for l in status if l.startswith("VmHWM:"))
    proc.stdin.close()
    proc.wait(timeout=30)
    return elapsed, peak_kib


def main() -> None:
    binary = sys.argv[1]
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    cold, warm, cold_rss, warm_rss = [], [], [], []
    with tempfile.TemporaryDirectory() as warm_cache:
        start_once(binary, warm_cache)  # fill the warm cache
        for _ in range(runs):
            with tempfile.TemporaryDirectory() as empty_cache:
                seconds, rss = start_once(binary, empty_cache)
                cold.append(seconds)
                cold_rss.append(rss)
            seconds, rss = start_once(binary, warm_cache)
            warm.append(seconds)
            warm_rss.append(rss)
    cold_ms = statistics.median(cold) * 1000
    warm_ms = statistics.median(warm) * 1000
    print(f"binary: {binary}")
    print(f"runs: {runs} cold + {runs} warm, interleaved")
    print(f"first start (empty cache, compiles): median {cold_ms:.1f} ms, peak RSS {statistics.median(cold_rss) / 1024:.1f} MiB")
    print(f"second start (warm cache):           median {warm_ms:.1f} ms, peak RSS {statistics.median(warm_rss) / 1024:.1f} MiB")
    print(f"ratio first/second: {cold_ms / warm_ms:.1f}x")


if __name__ == "__main__":
    main()
