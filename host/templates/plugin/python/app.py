"""{{name}}: a Bulkhead plugin in Python. Build it with

    componentize-py -d wit -w {{name}} componentize app -o {{name}}.wasm

componentize-py generates the `wit_world` package from wit/world.wit at build time. How
WIT maps to Python: an exported interface is a class named after it (`tools` -> `Tools`),
one method per function (`get-manifest` -> `get_manifest`); records are dataclasses,
enums `enum.Enum`s (`plugin-fault` -> `ErrorCode.PLUGIN_FAULT`), `option<T>` is
`T | None`, `list<u8>` is `bytes`. An exported `result<T, E>` returns `T` or raises
`Err(E)`; an imported one returns `T` or raises `Err` whose `.value` is the `E`.

Module-level code runs once, at build time (the initialised interpreter is snapshotted
into the component): import everything here, and do not call the host at module level.
"""

import json
import traceback
from collections.abc import Callable
from typing import Any

from componentize_py_types import Err
from wit_world import exports
from wit_world.exports.tools import ErrorCode, Manifest, Tool, ToolError, ToolOutput
from wit_world.imports import log

PLUGIN = "{{name}}"
VERSION = "0.1.0"

# A tool's function answers a short text for the model and the structured value, which
# must match the tool's output schema.
Reply = tuple[str, dict[str, Any]]
Run = Callable[[dict[str, Any]], Reply]

# Every tool of this plugin: its manifest entry and the function that runs it.
TOOLS: dict[str, tuple[Tool, Run]] = {}


def tool(
    *,
    name: str,
    title: str,
    description: str,
    input_schema: dict[str, Any],
    output_schema: dict[str, Any],
    capabilities: tuple[Any, ...] = (),
    idempotent: bool = True,
    open_world: bool = False,
) -> Callable[[Run], Run]:
    """Registers the decorated function as a tool.

    `capabilities` (e.g. `(Capability.CONTAINERS_READ,)`, from
    `wit_world.exports.tools`) lists every capability the tool may use; the host lists
    the tool only when the operator granted all of them. Each needs its import in
    wit/world.wit.
    """

    def register(run: Run) -> Run:
        TOOLS[name] = (
            Tool(
                name=name,
                title=title,
                description=description,
                input_schema=json.dumps(input_schema),
                output_schema=json.dumps(output_schema),
                capabilities=list(capabilities),
                idempotent=idempotent,
                open_world=open_world,
            ),
            run,
        )
        return run

    return register


# A plugin loaded from disk prefixes every tool with its own name (dashes as `_`). The
# host validates every call's arguments against `input_schema` before the call.
@tool(
    name="{{prefix}}_greet",
    title="Greet",
    description="Says hello to `name`. Touches nothing.",
    input_schema={
        "type": "object",
        "properties": {
            "name": {"type": "string", "minLength": 1, "maxLength": 100, "description": "Who to greet."}
        },
        "required": ["name"],
        "additionalProperties": False,
    },
    output_schema={
        "type": "object",
        "properties": {"greeting": {"type": "string", "description": "The whole sentence."}},
        "required": ["greeting"],
    },
)
def greet(args: dict[str, Any]) -> Reply:
    greeting = f"Hello, {args['name']}!"
    return greeting, {"greeting": greeting}


class Tools(exports.Tools):
    """Implements the exported interface `bulkhead:plugin/tools`."""

    def get_manifest(self) -> Manifest:
        return Manifest(
            name=PLUGIN,
            version=VERSION,
            description="Greets people.",
            tools=[entry for entry, _ in TOOLS.values()],
        )

    def call_tool(self, name: str, arguments: str) -> ToolOutput:
        # Returning answers `ok`; raising `Err(ToolError(...))` answers `err`. Any other
        # exception escaping would trap the instance and lose the traceback, so every
        # bug becomes a `plugin-fault` here, with the traceback in the host's log.
        registered = TOOLS.get(name)
        if registered is None:
            raise Err(ToolError(ErrorCode.PLUGIN_FAULT, f"this plugin has no tool named `{name}`", None))
        _, run = registered
        try:
            text, structured = run(json.loads(arguments))
        except Err as err:
            if isinstance(err.value, ToolError):
                raise
            # A host call failed (its `docker-error`): say so rather than trap.
            raise Err(ToolError(ErrorCode.ENGINE_ERROR, f"{name}: a Docker call failed: {err.value!r}", None)) from None
        except Exception as exc:  # noqa: BLE001 (every bug becomes a plugin-fault)
            log.write(log.Level.ERROR, traceback.format_exc())
            raise Err(ToolError(ErrorCode.PLUGIN_FAULT, f"{name} failed: {type(exc).__name__}: {exc}", None)) from None
        return ToolOutput(text=text, structured=json.dumps(structured), attachments=[])
