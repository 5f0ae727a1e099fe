// {{name}}: a Bulkhead plugin in JavaScript. Build it with `npm install` (once), then
// `npm run build` (see package.json).
//
// How WIT maps to JavaScript (jco): the exported interface `tools` is the exported
// object `tools`, one method per function in camelCase (`get-manifest` -> getManifest);
// records are plain objects with camelCase fields, enums are their case names as
// strings ('plugin-fault'), variants `{ tag, val }`, `option<T>` is the value or
// `undefined`, `list<u8>` is a Uint8Array, and u64/s64 arrive as BigInt (convert with
// Number() before JSON.stringify, which throws on a BigInt). An exported `result<T, E>` returns `T` or throws; a thrown object whose
// `payload` is the `E` answers `err(E)`. An imported function's `err` arrives as a thrown
// Error whose `payload` is the error value. Anything else thrown out of an export traps
// the instance (the host answers DKR-010 without detail): callTool catches everything.
//
// Top-level code runs once, at build time, and is snapshotted; every call then runs in a
// fresh instance of that snapshot, so nothing carries over between calls.

import { write as writeLog } from 'bulkhead:plugin/log@0.1.0';

const PLUGIN = '{{name}}';
const VERSION = '0.1.0';

/** A failed call: thrown, it answers the WIT `tool-error` `{ code, message, hint }`. */
class ToolError extends Error {
  constructor(code, message, hint) {
    super(message);
    this.payload = { code, message, hint };
  }
}

/** A successful answer: short text for the model plus the structured value. */
function reply(text, value) {
  return { text, structured: JSON.stringify(value), attachments: [] };
}

// A plugin loaded from disk prefixes every tool with its own name (dashes as `_`). The
// host validates every call's arguments against `inputSchema` before the call.
// `capabilities` lists what a call may use (e.g. ['containers-read'], with its import in
// wit/world.wit): the tool is listed only when the operator granted all of it.
const TOOLS = [
  {
    name: '{{prefix}}_greet',
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
];

export const tools = {
  getManifest() {
    return {
      name: PLUGIN,
      version: VERSION,
      description: 'Greets people.',
      tools: TOOLS.map((tool) => ({
        name: tool.name,
        title: tool.title,
        description: tool.description,
        inputSchema: JSON.stringify(tool.inputSchema),
        outputSchema: JSON.stringify(tool.outputSchema),
        capabilities: tool.capabilities,
        idempotent: tool.idempotent,
        openWorld: tool.openWorld,
      })),
    };
  },

  callTool(name, argumentsJson) {
    const tool = TOOLS.find((t) => t.name === name);
    if (!tool) {
      throw new ToolError('plugin-fault', `this plugin has no tool named \`${name}\``);
    }
    try {
      return tool.run(JSON.parse(argumentsJson));
    } catch (e) {
      if (e instanceof ToolError) {
        throw e;
      }
      // A bug, or a host call's error: a tool error rather than a trap, with the stack
      // in the host's log.
      writeLog('error', `${name} failed: ${e && e.stack ? e.stack : e}`);
      throw new ToolError('plugin-fault', `${name} failed: ${e}`);
    }
  },
};
