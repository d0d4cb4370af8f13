import path from 'path';
import type { NodeDef } from './red';

export type DefaultValue = string | number | boolean;
export type DefaultsTable = Readonly<Record<string, Readonly<Record<string, DefaultValue>>>>;

/**
 * The defaults table shared with the editor (resources/node-defaults.js, served to the dialogs
 * by Node-RED): one place gives every option's default, so the dialog and the runtime agree.
 * Required at run time from the package's resources/ folder (dist/nodes/lib → ../../../resources).
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a plain JS file shared with the browser
const TABLE = require(path.join(__dirname, '..', '..', '..', 'resources', 'node-defaults.js')) as DefaultsTable;

interface Migrations {
  FIELD: string;
  currentVersion(type: string): number;
  legacyFields(type: string): string[];
  migrate(type: string, saved: Record<string, unknown>): { node: Record<string, unknown>; from: number; to: number; notes: string[] };
}
/** Versioned node configs (resources/node-migrations.js, shared with the editor like the table). */
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a plain JS file shared with the browser
const MIGRATIONS = require(path.join(__dirname, '..', '..', '..', 'resources', 'node-migrations.js')) as Migrations;

export function migrations(): Migrations {
  return MIGRATIONS;
}

/** The defaults of one node type (throws for a type missing from the table: a bug of ours). */
export function nodeDefaults(type: string): Readonly<Record<string, DefaultValue>> {
  const defaults = TABLE[type];
  if (!defaults) throw new Error(`resources/node-defaults.js has no entry for ${type}`);
  return defaults;
}

export function defaultsTable(): DefaultsTable {
  return TABLE;
}

/**
 * The node's saved options in the current form (a flow saved by an older version migrated,
 * resources/node-migrations.js) with every option it lacks (a flow saved before the option
 * existed, or written by hand) set to the table's default: what the editor does when the flow
 * loads and the dialog opens.
 */
export function withDefaults<D extends NodeDef>(type: string, def: D): D {
  const out: Record<string, unknown> = MIGRATIONS.migrate(type, def).node;
  for (const [key, value] of Object.entries(nodeDefaults(type))) {
    if (out[key] === undefined || out[key] === null) out[key] = value;
  }
  return out as D;
}
