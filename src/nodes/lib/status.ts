import type { NodeStatus } from './red';

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
