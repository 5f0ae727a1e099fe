"""Where a tool call's time goes: samples the server with `perf record` while a raw
JSON-RPC client sends list and inspect calls one after another, and groups the samples
by where they landed (kernel work by kind, the host's crates, libc, plugin code).

Usage: python3 profile.py BULKHEAD_BINARY CONTAINER [CALLS]
Prints a Markdown section for BENCHMARKS.md. Needs `perf` and a binary with symbols
(the release profile keeps them). Time-based sampling (cpu-clock) works where the
machine exposes no hardware counters.
"""

from __future__ import annotations

import collections
import json
import os
import re
import subprocess
import sys
import tempfile
import time

KERNEL_KINDS = [
    ("scheduling and wake-ups", ("task_switch", "spin_unlock", "schedule", "futex", "wake",
                                 "select_task", "enqueue", "dequeue", "update_curr", "pick_next")),
    ("memory maps, page faults, TLB shootdowns", ("page", "unmap", "mmap", "tlb", "smp_call",
                                                  "mas_", "vma", "madvise", "zap", "clear_page",
                                                  "memcg", "lru", "folio", "pte")),
    ("I/O: epoll, sockets, pipes", ("epoll", "tcp", "unix", "sock", "pipe", "skb", "read",
                                    "write", "poll")),
]
STD_CRATES = {"core", "alloc", "std", "hashbrown"}


def classify(dso: str, symbol: str) -> str:
    if dso == "[kernel.kallsyms]":
        for kind, needles in KERNEL_KINDS:
            if any(needle in symbol for needle in needles):
                return f"kernel: {kind}"
        return "kernel: other"
    if dso.endswith(".cwasm"):
        return "plugin code (compiled wasm)"
    if dso.startswith("libc"):
        if re.search(r"malloc|free|_int_|unlink|consolidate|tcache", symbol):
            return "libc: malloc and free"
        return "libc: memcpy and the rest"
    if dso == os.path.basename(sys.argv[1]):
        crate = re.match(r"<?([a-z_0-9]+)::", symbol)
        name = crate.group(1) if crate else "other"
        return "host: " + ("std, core, alloc" if name in STD_CRATES else name)
    return dso


def drive(binary: str, container: str, calls: int, data: str) -> float:
    server = subprocess.Popen(
        [binary, "serve"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env={"BULKHEAD_LOG": "warn", "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
             "HOME": os.environ.get("HOME", "/root")},
    )
    assert server.stdin and server.stdout

    def rpc(message: dict) -> None:
        server.stdin.write((json.dumps(message) + "\n").encode())
        server.stdin.flush()
        while "id" in message:
            if json.loads(server.stdout.readline()).get("id") == message["id"]:
                return

    rpc({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {},
        "clientInfo": {"name": "profile", "version": "0"}}})
    rpc({"jsonrpc": "2.0", "method": "notifications/initialized"})
    rpc({"jsonrpc": "2.0", "id": 2, "method": "tools/list"})
    perf = subprocess.Popen(["perf", "record", "-F", "1999", "-o", data, "-p", str(server.pid)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1)
    started = time.perf_counter()
    for i in range(calls):
        rpc({"jsonrpc": "2.0", "id": 10 + 2 * i, "method": "tools/call", "params": {
            "name": "docker_list_containers", "arguments": {"all": True}}})
        rpc({"jsonrpc": "2.0", "id": 11 + 2 * i, "method": "tools/call", "params": {
            "name": "docker_inspect_container", "arguments": {"container": container}}})
    elapsed = time.perf_counter() - started
    perf.send_signal(2)
    perf.wait()
    server.stdin.close()
    server.wait(timeout=30)
    return elapsed * 1000 / (2 * calls)


def main() -> None:
    binary, container = sys.argv[1], sys.argv[2]
    calls = int(sys.argv[3]) if len(sys.argv) > 3 else 1500
    with tempfile.TemporaryDirectory() as scratch:
        data = os.path.join(scratch, "perf.data")
        per_call = drive(binary, container, calls, data)
        report = subprocess.run(
            ["perf", "report", "-i", data, "--no-children", "--sort", "dso,sym", "--stdio"],
            capture_output=True, text=True, check=True).stdout
    shares: collections.Counter[str] = collections.Counter()
    for line in report.splitlines():
        match = re.match(r"\s*([\d.]+)%\s+(\S+)\s+\[.\]\s+(.*)", line)
        if match:
            shares[classify(match.group(2), match.group(3))] += float(match.group(1))
    print("## Where the time goes\n")
    print(f"`perf record` (cpu-clock, 1999 Hz) on the server while a raw JSON-RPC client sends "
          f"{2 * calls} calls one after another, alternating `docker_list_containers` and "
          f"`docker_inspect_container` ({per_call:.2f} ms per call while sampled). Samples are "
          "grouped by where they landed; the engine's own work is not in them.\n")
    print("| where | share of samples |\n| --- | --- |")
    for place, share in shares.most_common(16):
        print(f"| {place} | {share:.1f}% |")


if __name__ == "__main__":
    main()
