import type { ConfigUser, RuntimeState } from './config-types';
import type { Node, NodeStatus } from './red';

/**
 * Node status texts in the core nodes' style (docs/ARCHITECTURE.md, "Node statuses and
 * errors"): about 30 characters, so a status does not run over its neighbours; the details
 * of an error are in the debug sidebar and the Catch node (done(err) carries the whole
 * message), never squeezed into the status.
 */
export const STATUS_MAX = 30;

/** `1 frame`, `2 frames`, `0 faces`. */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/**
 * Parts joined with ` · `; a later part that would make the text longer than `max` is left
 * out (parts come most important first), and a first part that is too long is cut with `…`.
 */
export function statusText(parts: ReadonlyArray<string | false | undefined | null>, max = STATUS_MAX): string {
  let text = '';
  for (const part of parts) {
    if (!part) continue;
    const next = text ? `${text} · ${part}` : part;
    if (next.length <= max) text = next;
    else if (!text) return `${part.slice(0, max - 1)}…`;
  }
  return text;
}

/** A failure on the status: its code (red dot); the message goes to the debug sidebar with done(err). */
export function errorStatus(error: { code: string }, extra?: string): NodeStatus {
  return { fill: 'red', shape: 'dot', text: statusText([error.code, extra]) };
}

/** A job's progress: `45% · 120 frames · 9.5 fps` (percent only when the length is known). */
export function progressText(p: { percent?: number; framesDone: number; fps: number; framesDropped?: number }): string {
  return statusText([p.percent !== undefined && `${p.percent.toFixed(0)}%`, plural(p.framesDone, 'frame'), `${p.fps.toFixed(1)} fps`, (p.framesDropped ?? 0) > 0 && `${p.framesDropped} dropped`]);
}

/** The backlog of a node's work queue (blue ring). */
export function queueStatus(depth: number): NodeStatus {
  return { fill: 'blue', shape: 'ring', text: `queue ${depth}` };
}

/** A message dropped because the node was busy: with a backlog that was full, or with none. */
export function busyStatus(queueFull: boolean): NodeStatus {
  return { fill: 'yellow', shape: 'ring', text: queueFull ? 'busy: dropped (queue full)' : 'busy: dropped' };
}

/** Status for the runtime's own state (loading models, ready on cpu/cuda, error). */
export function runtimeStatus(node: Node, state: RuntimeState): void {
  if (state.phase === 'loading') node.status({ fill: 'yellow', shape: 'ring', text: 'loading models…' });
  else if (state.phase === 'ready') node.status({ fill: 'green', shape: 'dot', text: statusText(['ready', state.provider, state.models]) });
  else if (state.phase === 'error') node.status(errorStatus(state));
  else node.status({ fill: 'grey', shape: 'ring', text: 'closed' });
}

/**
 * A config user that shows the runtime's state on a node's status until the node has shown a
 * result of its own: a late "ready" must not hide "2 faces · 9 ms".
 */
export class RuntimeStatusUser implements ConfigUser {
  private hasResult = false;

  constructor(private readonly node: Node) {}

  showRuntimeState(state: RuntimeState): void {
    if (this.hasResult && (state.phase === 'ready' || state.phase === 'loading')) return;
    runtimeStatus(this.node, state);
  }

  /** Call when the node put a result of its own on its status. */
  resultShown(): void {
    this.hasResult = true;
  }
}
