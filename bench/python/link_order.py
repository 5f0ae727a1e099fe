"""Writes host/link-order.txt: the functions of the release binary that a serving
session runs, for the linker to place side by side (see host/build.rs).

Usage: python3 link_order.py BULKHEAD_BINARY CACHE_DIR OUT_FILE

The server runs under `valgrind --tool=callgrind`, which records every function
executed, however briefly, where sampling would miss the rare ones. The session: a
warm start, the lists, one call of every read-only tool (with arguments that succeed
and with some that fail validation or name nothing), 64 calls in flight, and the
diagnostics prompts and resources. A first run under valgrind fills CACHE_DIR (the
engine's CPU features differ under valgrind, so the compiled plugins do too); only
the second, warm run is recorded, so Cranelift's compile paths, which run once per
plugin and machine, do not crowd the list.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile

IN_FLIGHT = 64


class Session:
    def __init__(self, command: list[str]) -> None:
        self.server = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        self.next_id = 0

    def send(self, method: str, params: dict | None = None, notify: bool = False) -> None:
        message: dict = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            message["params"] = params
        if not notify:
            self.next_id += 1
            message["id"] = self.next_id
        self.server.stdin.write((json.dumps(message) + "\n").encode())
        self.server.stdin.flush()

    def receive(self) -> dict:
        while True:
            line = self.server.stdout.readline()
            if not line:
                raise SystemExit("the server closed its output")
            message = json.loads(line)
            if "id" in message:
                return message

    def request(self, method: str, params: dict | None = None) -> dict:
        self.send(method, params)
        return self.receive()

    def close(self) -> None:
        self.server.stdin.close()
        if self.server.wait(timeout=600) != 0:
            raise SystemExit(f"the server exited with {self.server.returncode}")


def arguments_for(tool: dict, container: str) -> list[dict]:
    """A call that should succeed, and one that names nothing that exists."""
    required = tool.get("inputSchema", {}).get("required", [])
    good: dict = {}
    bad: dict = {}
    for name in required:
        if name in ("container", "id", "name", "image", "network", "volume"):
            good[name] = container if name in ("container", "id") else "bulkhead-test/busybox"
            bad[name] = "bulkhead-no-such-thing"
        else:
            good[name] = bad[name] = 1
    return [good, bad]


def session(command: list[str], container: str) -> None:
    server = Session(command)
    server.request("initialize", {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "bulkhead-link-order", "version": "0"},
    })
    server.send("notifications/initialized", notify=True)
    tools = server.request("tools/list")["result"]["tools"]
    for tool in tools:
        if not tool.get("annotations", {}).get("readOnlyHint"):
            continue
        for arguments in arguments_for(tool, container):
            server.request("tools/call", {"name": tool["name"], "arguments": arguments})
    server.request("tools/call", {"name": "docker_list_containers", "arguments": {"all": "yes"}})
    for _ in range(IN_FLIGHT):
        server.send("tools/call", {"name": "docker_list_containers", "arguments": {"all": True}})
    for _ in range(IN_FLIGHT):
        server.receive()
    for prompt in server.request("prompts/list").get("result", {}).get("prompts", []):
        arguments = {a["name"]: container for a in prompt.get("arguments", [])}
        server.request("prompts/get", {"name": prompt["name"], "arguments": arguments})
    for resource in server.request("resources/list").get("result", {}).get("resources", [])[:8]:
        server.request("resources/read", {"uri": resource["uri"]})
    server.request("resources/templates/list")
    server.request("ping")
    server.close()


def executed_functions(profile: str, binary: str) -> list[str]:
    """Every function of BINARY the profile names (callgrind names each once, with an id)."""
    named: dict[str, str] = {}
    objects: dict[str, str] = {}
    in_binary: set[str] = set()
    current_object = None
    with open(profile, errors="replace") as lines:
        for line in lines:
            found = re.match(r"^(c?fn|c?ob)=\((\d+)\)(?: (.*))?$", line.rstrip("\n"))
            if not found:
                continue
            kind, key, name = found.groups()
            if kind in ("ob", "cob"):
                if name:
                    objects[key] = name
                if kind == "ob":
                    current_object = objects.get(key)
                continue
            if name:
                named[key] = name
            # cfn= lines follow their own cob=, which callgrind omits when it equals ob=.
            if kind == "fn" and current_object == binary:
                in_binary.add(named[key])
    # Names that the binary defines: the list may carry a callee from another object
    # under the same name, and an order file names only what the linker can place.
    symbols = subprocess.run(
        ["nm", "--defined-only", binary], capture_output=True, text=True, check=True
    ).stdout
    addresses: dict[str, int] = {}
    for row in symbols.splitlines():
        parts = row.split(None, 2)
        if len(parts) == 3 and parts[1] in "tT":
            addresses[parts[2]] = int(parts[0], 16)
    # In address order: functions of one crate and module stay near each other.
    return sorted((name for name in in_binary if name in addresses), key=addresses.get)


def main() -> None:
    binary, cache, out = sys.argv[1], sys.argv[2], sys.argv[3]
    binary = os.path.realpath(binary)
    container = subprocess.run(
        ["docker", "run", "-d", "--rm", "bulkhead-test/busybox", "sleep", "600"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()
    try:
        serve = [binary, "serve", "--cache-dir", cache]
        # Any valgrind tool shows the same CPU, so the plain one (several times faster
        # than callgrind) fills the cache the recorded run then finds.
        print("link order: filling the plugin cache under valgrind", file=sys.stderr)
        session(["valgrind", "--tool=none", "--quiet", *serve], container)
        with tempfile.TemporaryDirectory() as scratch:
            profile = os.path.join(scratch, "session.callgrind")
            print("link order: recording a warm session under callgrind", file=sys.stderr)
            session(
                ["valgrind", "--tool=callgrind", "--demangle=no", "--quiet",
                 f"--callgrind-out-file={profile}", *serve],
                container,
            )
            functions = executed_functions(profile, binary)
    finally:
        subprocess.run(["docker", "rm", "-f", container], capture_output=True)
    if len(functions) < 1000:
        raise SystemExit(f"only {len(functions)} functions recorded: the session did not run")
    with open(out, "w") as file:
        file.write("\n".join(functions) + "\n")
    print(f"link order: {len(functions)} functions written to {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
