"""Interop check with the official MCP Python SDK (an independent client).

Spawns `bulkhead serve` over stdio twice, once per connection mode of the SDK:
`legacy` (the `initialize` handshake of 2025-11-25 and older clients) and `auto`
(the stateless 2026-07-28 `server/discover`), and in each lists the tools and runs a
container's whole life against the real engine. Prints one line per check and a closing
`python-sdk: N passed, N failed` line; exits non-zero on any failure.

Usage: python3 tests/interop/python_sdk.py /path/to/bulkhead [IMAGE]
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import traceback

from mcp import Client
from mcp.client.stdio import StdioServerParameters

# The tools this script drives; the full list is checked by the Rust e2e tests, which
# take it from the plugin's registration list.
USED_TOOLS = {
    "docker_list_containers",
    "docker_inspect_container",
    "docker_container_logs",
    "docker_create_container",
    "docker_start_container",
    "docker_stop_container",
    "docker_remove_container",
}


def structured(result) -> dict:
    assert not result.is_error, f"tool error: {result.content}"
    assert isinstance(result.structured_content, dict), result
    return result.structured_content


async def lifecycle(binary: str, image: str, mode: str, cache: str) -> None:
    name = f"bulkhead-interop-{mode}-{os.getpid()}"
    params = StdioServerParameters(
        command=binary,
        args=["serve", "--allow-destructive", "--cache-dir", cache],
        env={**os.environ, "BULKHEAD_LOG": "warn"},
    )
    try:
        async with Client(params, mode=mode) as client:
            print(f"  {mode}: negotiated {client.protocol_version}")
            tools = await client.list_tools()
            names = {tool.name for tool in tools.tools}
            assert USED_TOOLS <= names, USED_TOOLS - names
            remove = next(t for t in tools.tools if t.name == "docker_remove_container")
            assert remove.annotations.destructive_hint is True, remove.annotations

            created = structured(
                await client.call_tool(
                    "docker_create_container",
                    {"image": image, "name": name, "command": ["sh", "-c", "echo interop-ok; sleep 60"]},
                )
            )
            assert created["name"] == name, created
            structured(await client.call_tool("docker_start_container", {"container": name}))
            for _ in range(50):
                logs = structured(await client.call_tool("docker_container_logs", {"container": name}))
                if "interop-ok" in logs["logs"]:
                    break
                await asyncio.sleep(0.1)
            else:
                raise AssertionError(f"logs never showed the output: {logs}")
            details = structured(await client.call_tool("docker_inspect_container", {"container": name}))
            assert details["container"]["state"]["running"] is True, details
            structured(await client.call_tool("docker_stop_container", {"container": name, "timeout": 1}))
            structured(await client.call_tool("docker_remove_container", {"container": name}))

            gone = await client.call_tool("docker_inspect_container", {"container": name})
            assert gone.is_error and gone.content[0].text.startswith("DKR-002"), gone
            bad = await client.call_tool("docker_inspect_container", {"container": 7})
            assert bad.is_error and bad.content[0].text.startswith("DKR-004"), bad
    finally:
        subprocess.run(["docker", "rm", "-f", name], capture_output=True, check=False)


async def main() -> int:
    binary = sys.argv[1]
    image = sys.argv[2] if len(sys.argv) > 2 else "bulkhead-test/busybox:latest"
    passed = failed = 0
    with tempfile.TemporaryDirectory() as cache:
        for mode in ("legacy", "auto"):
            try:
                await lifecycle(binary, image, mode, cache)
                print(f"ok: python-sdk {mode} lifecycle")
                passed += 1
            except Exception:  # noqa: BLE001 - report every failure, then the summary
                traceback.print_exc()
                print(f"FAILED: python-sdk {mode} lifecycle")
                failed += 1
    print(f"python-sdk: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
