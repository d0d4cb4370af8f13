import type { Node, Red } from './red';

/** What a node can learn of the deployed flow around it: who catches its errors, what is wired after it. */

/**
 * Whether a Catch node would get this node's errors: one on the same tab (or subflow) catching
 * all, naming this node, or catching its group. Nodes inside a subflow instance (their errors
 * also reach the parent flow's Catch nodes) and harnesses without `eachNode` count as caught,
 * so a token is never freed under a branch that may still read it.
 */
export function catchCovers(RED: Red, node: Node): boolean {
  const each = RED.nodes.eachNode;
  if (typeof each !== 'function') return true;
  const z = (node as Node & { z?: string }).z;
  const g = (node as Node & { g?: string }).g;
  let tabs = 0;
  let covered = false;
  each((def) => {
    if (def.type === 'tab' && def.id === z) tabs++;
    if (def.type !== 'catch' || def.d === true || def.z !== z) return;
    const scope = def.scope;
    if (scope === null || scope === undefined || (Array.isArray(scope) && scope.includes(node.id)) || (scope === 'group' && g !== undefined)) covered = true;
  });
  // Not on a tab of the flow file: inside a subflow instance, whose errors may reach the parent's Catch nodes.
  return covered || tabs === 0;
}

/**
 * Types of the face nodes reachable from `node`'s outputs through other face nodes (bounded:
 * a flow is walked at most 200 nodes deep). Read once the flow runs, when every node exists.
 */
export function downstreamTypes(RED: Red, node: Node): Set<string> {
  const types = new Set<string>();
  const seen = new Set<string>([node.id]);
  const queue = (node.wires ?? []).flat();
  while (queue.length && seen.size < 200) {
    const id = queue.shift() as string;
    if (seen.has(id)) continue;
    seen.add(id);
    const next = RED.nodes.getNode(id);
    if (!next?.type?.startsWith('face-')) continue;
    types.add(next.type);
    queue.push(...(next.wires ?? []).flat());
  }
  return types;
}
