import { FaceError, type Parameters } from '../../runtime';
import type { ConfigNode } from './config-types';
import type { Node, Red } from './red';

/**
 * A node's configuration: the facefusion-config node it points at and its dialog options read
 * as values. The defaults of the options are in resources/node-defaults.js (node-defaults.ts).
 */

/** Resolves the config node a node points at, or undefined (with a red status). */
export function configOf(RED: Red, node: Node, id: string | undefined): ConfigNode | undefined {
  const config = id ? (RED.nodes.getNode(id) as ConfigNode | null) : null;
  if (!config || !config.runtime) {
    node.status({ fill: 'red', shape: 'ring', text: 'no facefusion-config' });
    return undefined;
  }
  return config;
}

/** The error every message of a node without a config node gets. */
export function missingConfig(type: string): FaceError {
  return new FaceError('E_BAD_PARAMETER', `${type} has no facefusion-config node: open the node and pick or add one`);
}

/** Only options the user actually set: '' / undefined / NaN mean "use the token's value". */
export function setOptions(pairs: Record<string, unknown>): Parameters {
  const out: Parameters = {};
  for (const [key, value] of Object.entries(pairs)) {
    if (value === undefined || value === null || value === '') continue;
    if (typeof value === 'number' && Number.isNaN(value)) continue;
    out[key] = value;
  }
  return out;
}

/** A number field of the dialog (saved as a string or a number), or undefined when blank or not a number. */
export function numberOption(value: unknown): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const n = Number(value);
  return Number.isFinite(n) ? n : undefined;
}

/** A comma-separated dialog field → trimmed non-empty items, or undefined when blank. */
export function listOption(value: unknown): string[] | undefined {
  if (typeof value !== 'string') return undefined;
  const items = value
    .split(',')
    .map((v) => v.trim())
    .filter((v) => v !== '');
  return items.length ? items : undefined;
}

/**
 * A checkbox saved as a boolean or as 'true' / 'false' (flows written by hand or by older
 * versions); anything else (unset) is `fallback`.
 */
export function flagOption(value: unknown, fallback: boolean): boolean {
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  return fallback;
}
