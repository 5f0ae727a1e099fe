"""What output schemas cost a client that validates every result.

The official Python SDK 1.x client checks each tool result's `structuredContent`
against the tool's `outputSchema` (jsonschema's `validate`, which also re-checks the
schema itself on every call). This spawns `bulkhead serve` over stdio with that
client and times sequential calls of a list and an inspect tool twice in one run:
with the client's validation as shipped, and with it switched off. The difference is
what the schemas cost per call.

Usage: python schema_cost.py BULKHEAD_BINARY CONTAINER [CALLS]
Prints a Markdown section for BENCHMARKS.md (milliseconds, medians of 3 interleaved
rounds of CALLS calls each).
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client


async def time_calls(session: ClientSession, tool: str, arguments: dict, calls: int) -> float:
    samples = []
    for _ in range(calls):
        started = time.perf_counter()
        result = await session.call_tool(tool, arguments)
        samples.append(time.perf_counter() - started)
        if result.isError:
            raise RuntimeError(f"{tool} failed: {result.content}")
    return statistics.median(samples) * 1000


async def measure(binary: str, container: str, calls: int) -> dict:
    server = StdioServerParameters(command=binary, args=["serve"], env={"BULKHEAD_LOG": "warn"})
    figures: dict[str, float] = {}
    async with stdio_client(server) as (read, write):
        async with ClientSession(read, write) as session:
            await session.initialize()
            tools = (await session.list_tools()).tools
            schemas = {t.name: t.outputSchema for t in tools}
            figures["output_schema_bytes_list"] = len(json.dumps(schemas["docker_list_containers"]))
            figures["output_schema_bytes_inspect"] = len(
                json.dumps(schemas["docker_inspect_container"])
            )
            cases = {
                "list": ("docker_list_containers", {"all": True}),
                "inspect": ("docker_inspect_container", {"container": container}),
            }
            validate = ClientSession._validate_tool_result

            async def skip(self, name, result):  # noqa: ANN001
                return None

            # Interleaved rounds, so drift on a shared machine hits both alike.
            rounds: dict[str, list[float]] = {}
            for _ in range(3):
                for label, (tool, arguments) in cases.items():
                    ClientSession._validate_tool_result = validate
                    rounds.setdefault(f"{label}_validated", []).append(
                        await time_calls(session, tool, arguments, calls)
                    )
                    ClientSession._validate_tool_result = skip
                    rounds.setdefault(f"{label}_unvalidated", []).append(
                        await time_calls(session, tool, arguments, calls)
                    )
            ClientSession._validate_tool_result = validate
            for key, values in rounds.items():
                figures[key] = round(statistics.median(values), 3)
            for label in cases:
                figures[f"{label}_schema_cost"] = round(
                    figures[f"{label}_validated"] - figures[f"{label}_unvalidated"], 3
                )
    return figures


def markdown(figures: dict, calls: int) -> str:
    import importlib.metadata

    sdk = importlib.metadata.version("mcp")
    lines = [
        "## Output schemas in a validating client",
        "",
        f"The official Python SDK {sdk} client, over stdio, {calls} sequential calls per "
        "round, 3 interleaved rounds; the client's result validation as shipped, then "
        "switched off, in the same session. The difference is what the output schema "
        "costs the client per call.",
        "",
        "| tool | output schema (bytes) | call, validated (ms) | call, not validated (ms) | schema cost per call (ms) |",
        "| --- | --- | --- | --- | --- |",
    ]
    for label, tool in (("list", "docker_list_containers"), ("inspect", "docker_inspect_container")):
        lines.append(
            f"| `{tool}` | {figures[f'output_schema_bytes_{label}']} "
            f"| {figures[f'{label}_validated']:.2f} | {figures[f'{label}_unvalidated']:.2f} "
            f"| {figures[f'{label}_schema_cost']:.2f} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    binary, container = sys.argv[1], sys.argv[2]
    calls = int(sys.argv[3]) if len(sys.argv) > 3 else 200
    print(markdown(asyncio.run(measure(binary, container, calls)), calls))


if __name__ == "__main__":
    main()
