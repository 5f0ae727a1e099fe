"""Interop check with the official MCP Python SDK (an independent client).

Spawns `bulkhead serve` over stdio twice, once per connection mode of the SDK:
`legacy` (the `initialize` handshake of 2025-11-25 and older clients) and `auto`
(the stateless 2026-07-28 `server/discover`), and in each lists the tools and runs a
container's whole life against the real engine; then, for a running container, lists the
five prompts and the resource templates, gets each prompt, reads each resource and asks
for completions. Then does the same over Streamable HTTP, against one
`bulkhead serve --http` behind a bearer token made by `bulkhead token new`, and checks
that a client without the token is turned away. Prints one line per check and a closing
`python-sdk: N passed, N failed` line; exits non-zero on any failure.

Usage: python3 tests/interop/python_sdk.py /path/to/bulkhead [IMAGE]
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import tempfile
import traceback

from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import create_mcp_http_client, streamable_http_client
from mcp.types import PromptReference, ResourceTemplateReference

from http_server import serving

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


def stdio(binary: str, cache: str, *flags: str):
    """Connects over stdio to a server started with `flags`."""
    params = StdioServerParameters(
        command=binary,
        args=["serve", "--cache-dir", cache, *flags],
        env={**os.environ, "BULKHEAD_LOG": "warn"},
    )
    return lambda mode: Client(params, mode=mode)


def over_http(url: str, token: str | None):
    """Connects over Streamable HTTP, with `token` as the bearer token if given."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return lambda mode: Client(
        streamable_http_client(url, http_client=create_mcp_http_client(headers=headers)), mode=mode
    )


async def lifecycle(connect, image: str, label: str) -> None:
    name = f"bulkhead-interop-{label.replace(' ', '-')}-{os.getpid()}"
    mode = label.split()[-1]
    try:
        async with connect(mode) as client:
            print(f"  {label}: negotiated {client.protocol_version}")
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


PROMPT_ARGUMENTS = {
    "troubleshoot_container": lambda name: {"container": name, "tail": "20"},
    "optimize_container": lambda name: {"container": name},
    "generate_compose": lambda name: {"containers": name},
    "debug_networking": lambda name: {"container": name},
    "security_audit": lambda name: {"container": name},
}
CONTAINER_TEMPLATES = ("logs", "stats", "inspect")


async def context(connect, image: str, label: str) -> None:
    name = f"bulkhead-interop-ctx-{label.replace(' ', '-')}-{os.getpid()}"
    mode = label.split()[-1]
    subprocess.run(
        ["docker", "run", "-d", "--name", name, image, "sh", "-c", "echo ctx-line; sleep 120"],
        capture_output=True,
        check=True,
    )
    try:
        async with connect(mode) as client:
            prompts = {prompt.name for prompt in (await client.list_prompts()).prompts}
            assert set(PROMPT_ARGUMENTS) <= prompts, set(PROMPT_ARGUMENTS) - prompts
            for prompt, arguments in PROMPT_ARGUMENTS.items():
                answer = await client.get_prompt(prompt, arguments(name))
                text = "\n".join(message.content.text for message in answer.messages)
                assert name in text, f"{prompt} does not mention the container: {text[:300]}"
            templates = {t.uri_template for t in (await client.list_resource_templates()).resource_templates}
            for kind in CONTAINER_TEMPLATES:
                assert f"docker://containers/{{id}}/{kind}" in templates, templates
                read = await client.read_resource(f"docker://containers/{name}/{kind}")
                assert read.contents and read.contents[0].text, read
            logs = await client.read_resource(f"docker://containers/{name}/logs")
            assert "ctx-line" in logs.contents[0].text, logs
            encoded = image.replace("/", "%2F")
            image_inspect = await client.read_resource(f"docker://images/{encoded}/inspect")
            assert image_inspect.contents[0].mime_type == "application/json", image_inspect
            info = await client.read_resource("docker://system/info")
            assert info.contents[0].text.startswith("{"), info
            listed = await client.list_resources()
            assert any(str(r.uri) == "docker://system/info" for r in listed.resources), listed
            completion = await client.complete(
                PromptReference(name="troubleshoot_container"), {"name": "container", "value": name[:-3]}
            )
            assert name in completion.completion.values, completion
            completion = await client.complete(
                ResourceTemplateReference(uri="docker://containers/{id}/logs"), {"name": "id", "value": name[:-3]}
            )
            assert name in completion.completion.values, completion
    finally:
        subprocess.run(["docker", "rm", "-f", name], capture_output=True, check=False)


async def refused_without_token(url: str) -> None:
    """A client without the token never gets a session; the HTTP answer is 401."""
    initialize = {
        "jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": "2025-11-25", "capabilities": {},
                   "clientInfo": {"name": "interop", "version": "0"}},
    }
    async with create_mcp_http_client() as http:
        answer = await http.post(url, json=initialize,
                                 headers={"Accept": "application/json, text/event-stream"})
        assert answer.status_code == 401, answer
        assert answer.headers["www-authenticate"].startswith("Bearer"), answer.headers
    try:
        async with over_http(url, None)("legacy") as client:
            await client.list_tools()
    except Exception:  # noqa: BLE001 - the SDK reports the 401 as a generic error
        return
    raise AssertionError("a client without a token was served")


@contextlib.contextmanager
def http_server(binary: str, cache: str, scratch: str):
    """`bulkhead serve --http 127.0.0.1:0` behind a new token: (url, token)."""
    tokens = os.path.join(scratch, "tokens")
    made = subprocess.run(
        [binary, "token", "new", "--file", tokens, "--principal", "interop", "--scope", "admin"],
        capture_output=True, text=True, check=True,
    )
    with serving(binary, scratch, "--tokens", tokens, "--allow-destructive", "--cache-dir", cache) as url:
        yield url, made.stdout.strip()


async def main() -> int:
    binary = sys.argv[1]
    image = sys.argv[2] if len(sys.argv) > 2 else "bulkhead-test/busybox:latest"
    passed = failed = 0

    async def check(name: str, run) -> None:
        nonlocal passed, failed
        try:
            await run
            print(f"ok: python-sdk {name}")
            passed += 1
        except Exception:  # noqa: BLE001 - report every failure, then the summary
            traceback.print_exc()
            print(f"FAILED: python-sdk {name}")
            failed += 1

    with tempfile.TemporaryDirectory() as cache, tempfile.TemporaryDirectory() as scratch:
        for mode in ("legacy", "auto"):
            await check(f"stdio {mode} lifecycle",
                        lifecycle(stdio(binary, cache, "--allow-destructive"), image, f"stdio {mode}"))
            await check(f"stdio {mode} context", context(stdio(binary, cache), image, f"stdio {mode}"))
        with http_server(binary, cache, scratch) as (url, token):
            for mode in ("legacy", "auto"):
                await check(f"http {mode} lifecycle", lifecycle(over_http(url, token), image, f"http {mode}"))
                await check(f"http {mode} context", context(over_http(url, token), image, f"http {mode}"))
            await check("http refused without token", refused_without_token(url))
    print(f"python-sdk: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
