// hello-js: a complete Bulkhead plugin written in JavaScript.
//
// Three tools: one that needs no capability, one that reads containers, one that reads
// images. Build it into a WebAssembly component with
//
//     scripts/build-js-plugin.sh plugins/examples/js hello-js.wasm
//
// which runs `jco componentize` (componentize-js: the StarlingMonkey JS engine, snapshotted
// after this module's top level ran) against wit/world.wit. This file is an ES module
// with no npm dependencies; the build bundles it, so a bigger plugin may split its code
// into modules and import npm packages. The `bulkhead:plugin/…` imports come from the
// host through the world, and the world is the permission request: the component
// imports every interface the world lists, whether this code calls it or not.
//
// How jco maps the WIT types used here to JavaScript (the same holds everywhere):
//   - interface imports are ES module imports named `namespace:package/interface@version`,
//     functions in camelCase (`list-containers` -> `listContainers`);
//   - records are plain objects with camelCase fields (`next-cursor` -> `nextCursor`);
//   - enums are their case names as strings, kebab-case as in the WIT ('containers-read');
//   - variants are `{ tag: 'case-name', val: payload }`;
//   - `option<T>` is the value or `undefined` (`null` is accepted as none too);
//   - u8/u16/u32/s32/f64 are numbers, u64/s64 are BigInt, `list<u8>` is a Uint8Array
//     (an array of numbers is accepted going out);
//   - an imported function returning `result<T, E>` returns T, or THROWS an Error whose
//     `payload` property is the E value (here a `docker-error` variant);
//   - an exported function returning `result<T, E>` returns T for `ok`, and for `err`
//     throws an object carrying the E value in an own `payload` property (see ToolError
//     below). Any other exception escaping an export traps the instance: the host then
//     answers the call with DKR-010 (plugin fault) and no detail, so catch everything.

import { listContainers } from 'bulkhead:plugin/containers-read@0.1.0';
import { listImages } from 'bulkhead:plugin/images-read@0.1.0';
import { write as writeLog } from 'bulkhead:plugin/log@0.1.0';

// The plugin's name. A plugin loaded from disk must start every tool name with it, dashes
// turned into underscores: `hello-js` -> `hello_js_…`.
const PLUGIN = 'hello-js';
const VERSION = '0.1.0';

// ---------------------------------------------------------------------------------------
// Errors

/**
 * A failed tool call: the WIT `tool-error` record `{ code, message, hint }`, thrown.
 * Throwing it from `callTool` returns `err(tool-error)` to the host, which shows it to
 * the model as `isError: true` with the code rendered as `DKR-nnn`.
 */
class ToolError extends Error {
  /**
   * @param {string} code a WIT `error-code` case: 'invalid-argument', 'not-found', …
   * @param {string} message what went wrong, for a person
   * @param {string} [hint] what to try instead
   */
  constructor(code, message, hint) {
    super(message);
    // jco reads the `err` value from an own property named `payload`.
    this.payload = { code, message, hint };
  }
}

/**
 * Maps a host `docker-error` variant to a ToolError, the way the Rust SDK does
 * (plugins/sdk/src/error.rs): same code, the host's text as the message, a hint.
 */
const DOCKER_ERRORS = {
  denied: [
    'permission-denied',
    'permission denied',
    "this tool needs a capability that is not granted, or the host's policy refused " +
      'these arguments; only the operator can change the policy',
  ],
  'not-found': [
    'not-found',
    'no such object',
    'check the name or id: list containers (including stopped ones) to see what exists',
  ],
  'image-not-found': [
    'image-not-found',
    'no such image',
    'the image must already exist locally (nothing is pulled implicitly); check the ' +
      'name and tag',
  ],
  invalid: [
    'invalid-argument',
    'invalid argument',
    "check the arguments against the tool's input schema",
  ],
  conflict: [
    'conflict',
    "conflict with the object's current state",
    "the name is taken or the object's state forbids this (for example removing a " +
      'running container needs force); inspect it first',
  ],
  'port-in-use': [
    'port-in-use',
    'a host port asked for is already in use',
    'pick another host port, or leave the host port out to get a free one',
  ],
  unavailable: [
    'engine-unreachable',
    'the Docker engine is unreachable',
    'is the Docker daemon running? DOCKER_HOST?',
  ],
  timeout: [
    'timeout',
    'the Docker engine did not answer in time',
    'the engine is slow or busy; try again, or ask for less at once',
  ],
  'budget-exceeded': [
    'budget-exceeded',
    'too many Docker calls in one tool call',
    'ask for less in one call, for example with filters or a smaller limit',
  ],
  engine: ['engine-error', 'the Docker engine reported an error', undefined],
};

/** `{ tag, val }` (a `docker-error`) -> ToolError. */
function fromDockerError(dockerError) {
  const [code, fallback, hint] = DOCKER_ERRORS[dockerError.tag] ?? [
    'engine-error',
    `unknown docker-error \`${dockerError.tag}\``,
    undefined,
  ];
  const text = typeof dockerError.val === 'string' ? dockerError.val.trim() : '';
  return new ToolError(code, text === '' ? fallback : dockerError.val, hint);
}

/**
 * Calls a host primitive. Its `err(docker-error)` arrives as a thrown Error whose
 * `payload` is the variant; turn it into a ToolError instead of letting it escape.
 */
function docker(primitive, ...args) {
  try {
    return primitive(...args);
  } catch (e) {
    if (e && typeof e === 'object' && e.payload && typeof e.payload.tag === 'string') {
      throw fromDockerError(e.payload);
    }
    throw e;
  }
}

// ---------------------------------------------------------------------------------------
// Tools

/** Records the host's Docker primitives take. Every field must be present. */
const EVERY_CONTAINER = {
  all: false, // running containers only, like `docker ps`
  name: undefined,
  status: [],
  labels: [],
  ancestor: undefined,
  thisSession: false,
};
const EVERY_IMAGE = { reference: undefined, dangling: undefined, labels: [], all: false };
// Only `total` is wanted, so ask for the smallest page (0 would mean the default, 50).
const ONE_ITEM = { limit: 1, cursor: undefined };

/** A successful answer: short text for the model plus the structured value. */
function reply(text, value) {
  return { text, structured: JSON.stringify(value), attachments: [] };
}

// Each tool: its manifest entry (WIT `tool` record, schemas as objects here and turned
// into JSON text below) and `run(args)`, which returns a `tool-output` or throws a
// ToolError. The host validates `arguments` against `inputSchema` before calling, and
// lists a tool only when every capability it declares is granted.
const TOOLS = [
  {
    name: 'hello_js_greet',
    title: 'Greet',
    description: 'Says hello to `name`. Touches nothing.',
    inputSchema: {
      type: 'object',
      properties: {
        name: { type: 'string', description: 'Who to greet.', minLength: 1, maxLength: 100 },
      },
      required: ['name'],
      additionalProperties: false,
    },
    outputSchema: {
      type: 'object',
      properties: { greeting: { type: 'string', description: 'The whole sentence.' } },
      required: ['greeting'],
    },
    capabilities: [],
    idempotent: true,
    openWorld: false,
    run({ name }) {
      const greeting = `Hello, ${name}!`;
      return reply(greeting, { greeting });
    },
  },
  {
    name: 'hello_js_count',
    title: 'Count containers',
    description: 'Counts running containers.',
    inputSchema: { type: 'object', properties: {}, additionalProperties: false },
    outputSchema: {
      type: 'object',
      properties: { running: { type: 'integer', description: 'Running containers.' } },
      required: ['running'],
    },
    // A call may use only what its tool declares, and only if the operator granted it;
    // anything else answers `denied`.
    capabilities: ['containers-read'],
    idempotent: true,
    openWorld: false,
    run() {
      const page = docker(listContainers, EVERY_CONTAINER, ONE_ITEM);
      return reply(`${page.total} running container(s)`, { running: page.total });
    },
  },
  {
    name: 'hello_js_images',
    title: 'Count images',
    description: 'Counts local images (tagged and dangling, not intermediate layers).',
    inputSchema: { type: 'object', properties: {}, additionalProperties: false },
    outputSchema: {
      type: 'object',
      properties: { images: { type: 'integer', description: 'Local images.' } },
      required: ['images'],
    },
    capabilities: ['images-read'],
    idempotent: true,
    openWorld: false,
    run() {
      const page = docker(listImages, EVERY_IMAGE, ONE_ITEM);
      writeLog('debug', `counted ${page.total} image(s)`);
      return reply(`${page.total} local image(s)`, { images: page.total });
    },
  },
];

// ---------------------------------------------------------------------------------------
// The export: WIT interface `bulkhead:plugin/tools@0.1.0`, exported as an object named
// after the interface (`tools`) holding its functions in camelCase.

export const tools = {
  /** WIT `get-manifest: func() -> manifest`. Called at load; must be pure. */
  getManifest() {
    return {
      name: PLUGIN,
      version: VERSION,
      description: 'Greets people and counts running containers and local images (JavaScript example).',
      tools: TOOLS.map((tool) => ({
        name: tool.name,
        title: tool.title,
        description: tool.description,
        inputSchema: JSON.stringify(tool.inputSchema),
        outputSchema: JSON.stringify(tool.outputSchema), // `undefined` for none
        capabilities: tool.capabilities,
        idempotent: tool.idempotent,
        openWorld: tool.openWorld,
      })),
    };
  },

  /**
   * WIT `call-tool: func(name: string, arguments: string) -> result<tool-output,
   * tool-error>`. Returns the `tool-output` record, or throws a ToolError.
   */
  callTool(name, argumentsJson) {
    const tool = TOOLS.find((t) => t.name === name);
    if (!tool) {
      // The host routes only declared names: this means manifest and dispatch disagree.
      throw new ToolError(
        'plugin-fault',
        `this plugin has no tool named \`${name}\``,
        "the plugin's manifest and dispatcher disagree; report it to its author",
      );
    }
    let args;
    try {
      args = JSON.parse(argumentsJson);
    } catch (e) {
      throw new ToolError('invalid-argument', `arguments are not JSON: ${e.message}`);
    }
    try {
      return tool.run(args);
    } catch (e) {
      if (e instanceof ToolError) {
        throw e;
      }
      // A bug: answer plugin-fault with what happened instead of trapping.
      writeLog('error', `${name} failed: ${e && e.stack ? e.stack : e}`);
      throw new ToolError('plugin-fault', `${name} failed: ${e}`);
    }
  },
};
