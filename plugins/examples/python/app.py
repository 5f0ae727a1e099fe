"""hello-py: a complete minimal Bulkhead plugin in Python.

Three tools: one that needs no capability (`hello_py_greet`), one that reads containers
(`hello_py_count`) and one that reads images (`hello_py_images`). Build it with

    scripts/build-python-plugin.sh plugins/examples/python OUT.wasm

componentize-py generates the `wit_world` package below from wit/world.wit at build time
(`componentize-py bindings DIR` writes a copy for your editor). How WIT maps to Python:

- an exported interface is a class named after it (`tools` -> `Tools`) defined in this
  module, one method per function (`get-manifest` -> `get_manifest`);
- records are dataclasses, enums are `enum.Enum`s (`error-code` -> `ErrorCode`,
  `permission-denied` -> `ErrorCode.PERMISSION_DENIED`), integers are `int`, `string` is
  `str`, `list<T>` is `list`, `list<u8>` is `bytes`, `option<T>` is `T | None`;
- a variant is one dataclass per case (`docker-error::denied(string)` ->
  `DockerError_Denied(value=...)`), to be told apart with `match` or `isinstance`;
- `result<T, E>`: an imported function returns `T` or raises `componentize_py_types.Err`
  whose `.value` is the `E`; an exported function returns `T`, or raises `Err(E)` to
  return the error case.

Module-level code runs once, at build time: componentize-py snapshots the initialised
interpreter into the component, which then carries only the modules imported by then.
Import everything at module level (an `import` inside a function fails at run time
with ModuleNotFoundError), and do not call the host from module level.
"""

import json
import traceback
from collections.abc import Callable
from typing import Any

from componentize_py_types import Err
from wit_world import exports
from wit_world.exports.tools import (
    Capability,
    ErrorCode,
    Manifest,
    Tool,
    ToolError,
    ToolOutput,
)
from wit_world.imports import containers_read, images_read, log
from wit_world.imports.image_types import ImageFilter
from wit_world.imports.types import (
    DockerError_BudgetExceeded,
    DockerError_Conflict,
    DockerError_Denied,
    DockerError_Engine,
    DockerError_ImageNotFound,
    DockerError_Invalid,
    DockerError_NotFound,
    DockerError_PortInUse,
    DockerError_Timeout,
    DockerError_Unavailable,
    ListFilter,
    PageRequest,
)

# The plugin's name. A plugin loaded from disk must prefix every tool with it, dashes as
# underscores: `hello-py` -> `hello_py_`.
PLUGIN = "hello-py"
VERSION = "0.1.0"

# What a tool's function returns: a short text for the model and the structured value,
# which must match the tool's output schema.
Reply = tuple[str, dict[str, Any]]

# Every tool of this plugin: its manifest entry and the function that runs it.
TOOLS: dict[str, tuple[Tool, Callable[[dict[str, Any]], Reply]]] = {}


def tool(
    *,
    name: str,
    title: str,
    description: str,
    input_schema: dict[str, Any],
    output_schema: dict[str, Any],
    capabilities: tuple[Capability, ...] = (),
    idempotent: bool = True,
    open_world: bool = False,
) -> Callable[[Callable[[dict[str, Any]], Reply]], Callable[[dict[str, Any]], Reply]]:
    """Registers the decorated function as a tool.

    `capabilities` lists every capability the tool may use. The host lists the tool only
    when all are granted, and a call can use nothing else: anything undeclared answers
    `denied`.
    """

    def register(run: Callable[[dict[str, Any]], Reply]) -> Callable[[dict[str, Any]], Reply]:
        entry = Tool(
            name=name,
            title=title,
            description=description,
            input_schema=json.dumps(input_schema),
            output_schema=json.dumps(output_schema),
            capabilities=list(capabilities),
            idempotent=idempotent,
            open_world=open_world,
        )
        TOOLS[name] = (entry, run)
        return run

    return register


def object_schema(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    """A JSON Schema object with exactly these properties."""
    return {
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }


# --- the tools -------------------------------------------------------------------------


@tool(
    name="hello_py_greet",
    title="Greet",
    description="Says hello to `name`. Touches nothing.",
    input_schema=object_schema(
        {
            "name": {
                "type": "string",
                "minLength": 1,
                "maxLength": 100,
                "description": "Who to greet.",
            }
        },
        ["name"],
    ),
    output_schema=object_schema(
        {"greeting": {"type": "string", "description": "The whole sentence."}},
        ["greeting"],
    ),
)
def greet(args: dict[str, Any]) -> Reply:
    # The host validated `args` against the input schema before this runs. Checks of its
    # own refuse with a tool error of the right code.
    name = args["name"].strip()
    if not name:
        raise Err(ToolError(ErrorCode.INVALID_ARGUMENT, "`name` is blank", "give a name"))
    greeting = f"Hello, {name}!"
    return greeting, {"greeting": greeting}


@tool(
    name="hello_py_count",
    title="Count containers",
    description="Counts running containers.",
    input_schema=object_schema({}, []),
    output_schema=object_schema(
        {"running": {"type": "integer", "minimum": 0, "description": "Running containers."}},
        ["running"],
    ),
    capabilities=(Capability.CONTAINERS_READ,),
)
def count(args: dict[str, Any]) -> Reply:
    # The default filter keeps running containers only (like `docker ps`). `total`
    # counts every match, so one item per page is enough. A failure raises `Err` with
    # a DockerError; `Tools.call_tool` turns it into a tool error.
    page = containers_read.list_containers(
        ListFilter(all=False, name=None, status=[], labels=[], ancestor=None, this_session=False),
        PageRequest(limit=1, cursor=None),
    )
    return f"{page.total} running container(s)", {"running": page.total}


@tool(
    name="hello_py_images",
    title="Count images",
    description="Counts local images (tagged and dangling, without intermediate layers).",
    input_schema=object_schema({}, []),
    output_schema=object_schema(
        {"images": {"type": "integer", "minimum": 0, "description": "Local images."}},
        ["images"],
    ),
    capabilities=(Capability.IMAGES_READ,),
)
def images(args: dict[str, Any]) -> Reply:
    page = images_read.list_images(
        ImageFilter(reference=None, dangling=None, labels=[], all=False),
        PageRequest(limit=1, cursor=None),
    )
    return f"{page.total} local image(s)", {"images": page.total}


# --- errors ----------------------------------------------------------------------------

# How each docker-error case becomes a tool error, as the Rust SDK maps them
# (plugins/sdk/src/error.rs): the code, a message for when the host's text is empty, and
# a hint saying what to try next.
DOCKER_ERRORS: dict[type, tuple[ErrorCode, str, str | None]] = {
    DockerError_Denied: (
        ErrorCode.PERMISSION_DENIED,
        "permission denied",
        (
            "this tool needs a capability that is not granted, or the host's policy refused "
            "these arguments; only the operator can change the policy"
        ),
    ),
    DockerError_NotFound: (
        ErrorCode.NOT_FOUND,
        "no such object",
        "check the name or id: list containers (including stopped ones) to see what exists",
    ),
    DockerError_ImageNotFound: (
        ErrorCode.IMAGE_NOT_FOUND,
        "no such image",
        (
            "the image must already exist locally (nothing is pulled implicitly); check the "
            "name and tag"
        ),
    ),
    DockerError_Invalid: (
        ErrorCode.INVALID_ARGUMENT,
        "invalid argument",
        "check the arguments against the tool's input schema",
    ),
    DockerError_Conflict: (
        ErrorCode.CONFLICT,
        "conflict with the object's current state",
        (
            "the name is taken or the object's state forbids this (for example removing a "
            "running container needs force); inspect it first"
        ),
    ),
    DockerError_PortInUse: (
        ErrorCode.PORT_IN_USE,
        "a host port asked for is already in use",
        "pick another host port, or leave the host port out to get a free one",
    ),
    DockerError_Unavailable: (
        ErrorCode.ENGINE_UNREACHABLE,
        "the Docker engine is unreachable",
        "is the Docker daemon running? DOCKER_HOST?",
    ),
    DockerError_Timeout: (
        ErrorCode.TIMEOUT,
        "the Docker engine did not answer in time",
        "the engine is slow or busy; try again, or ask for less at once",
    ),
    DockerError_BudgetExceeded: (
        ErrorCode.BUDGET_EXCEEDED,
        "too many Docker calls in one tool call",
        "ask for less in one call, for example with filters or a smaller limit",
    ),
    DockerError_Engine: (
        ErrorCode.ENGINE_ERROR,
        "the Docker engine reported an error",
        None,
    ),
}


def tool_error(error: Any) -> ToolError:
    """The tool error for a docker-error case (the value of the `Err` a host call raised)."""
    mapping = DOCKER_ERRORS.get(type(error))
    if mapping is None:
        # Not a docker-error: a bug in this plugin.
        return ToolError(ErrorCode.PLUGIN_FAULT, f"unexpected error value {error!r}", None)
    code, default_message, hint = mapping
    text = error.value
    return ToolError(code=code, message=text if text.strip() else default_message, hint=hint)


# --- the export ------------------------------------------------------------------------


class Tools(exports.Tools):
    """Implements the exported interface `bulkhead:plugin/tools`."""

    def get_manifest(self) -> Manifest:
        return Manifest(
            name=PLUGIN,
            version=VERSION,
            description="Greets people and counts running containers and local images.",
            tools=[entry for entry, _ in TOOLS.values()],
        )

    def call_tool(self, name: str, arguments: str) -> ToolOutput:
        # Returning answers `ok`; raising `Err(ToolError)` answers `err`. Anything else
        # escaping here (another exception, or `Err` of another type) traps the instance
        # and the traceback is lost: the host reports only "crashed". So every exception
        # is turned into a tool error below.
        registered = TOOLS.get(name)
        if registered is None:
            raise Err(
                ToolError(
                    code=ErrorCode.PLUGIN_FAULT,
                    message=f"this plugin has no tool named `{name}`",
                    hint="the plugin's manifest and dispatcher disagree; report it to its author",
                )
            )
        _, run = registered
        try:
            text, structured = run(json.loads(arguments))
        except Err as err:
            # A tool refused on purpose: its ToolError passes as is.
            if isinstance(err.value, ToolError):
                raise
            # A host primitive refused or failed: map its docker-error (as the Rust SDK's
            # `?` does).
            raise Err(tool_error(err.value)) from None
        except Exception as exc:  # noqa: BLE001 (every bug becomes a plugin-fault)
            # A bug in this plugin: report it as such, with the traceback in the host's
            # log (stderr) rather than in the answer.
            log.write(log.Level.ERROR, traceback.format_exc())
            raise Err(
                ToolError(
                    code=ErrorCode.PLUGIN_FAULT,
                    message=f"{name} failed: {type(exc).__name__}: {exc}",
                    hint="this is a bug in the plugin; report it to its author",
                )
            ) from None
        return ToolOutput(text=text, structured=json.dumps(structured), attachments=[])
