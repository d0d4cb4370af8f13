import { lookup } from 'dns';
import { isIP } from 'net';
import { FaceError } from '../errors';
import type { MediaSource } from './source';

/** The host name of a network source, or undefined for files, devices, IP literals and listen URLs (udp://@:1234). */
export function sourceHost(source: MediaSource): string | undefined {
  if (source.kind !== 'url') return undefined;
  let host: string;
  try {
    host = new URL(source.input).hostname;
  } catch {
    return undefined;
  }
  host = host.replace(/^\[|\]$/g, '');
  if (!host || host === '@' || isIP(host)) return undefined;
  return host;
}

/**
 * Refuses a network source whose host name does not exist (DNS says ENOTFOUND), with a message
 * that says so: "cannot resolve host cam.example". Without it ffmpeg reports the failure in
 * its own words (old builds crash on it), and a live source would retry a name that will never
 * resolve. A lookup that is only slow or temporarily failing (EAI_AGAIN, timeout) is left to
 * ffmpeg and the reconnect logic.
 */
export async function assertHostResolves(source: MediaSource, timeoutMs = 5000): Promise<void> {
  const host = sourceHost(source);
  if (!host) return;
  const code = await new Promise<string | undefined>((resolve) => {
    const timer = setTimeout(() => resolve(undefined), timeoutMs);
    lookup(host, (error) => {
      clearTimeout(timer);
      resolve(error ? ((error as NodeJS.ErrnoException).code ?? 'ERROR') : undefined);
    });
  });
  if (code === 'ENOTFOUND') {
    throw new FaceError('E_VIDEO_OPEN', `cannot resolve host ${host} (${source.input}): no such host name`, { details: { input: source.input, host } });
  }
}

/** A clearer reason for an ffmpeg run that ended on a name resolution failure. */
export function explainFfmpegFailure(stderr: string): string | undefined {
  const match = /Failed to resolve hostname (\S+?):/.exec(stderr);
  if (match) return `cannot resolve host ${match[1]}`;
  // A playlist or list of files, or a protocol this source may not use (see source.ts whitelists).
  const refused = /(Format not on whitelist '[^']*'|Protocol '[^']*' not on whitelist '[^']*')/.exec(stderr);
  return refused ? `it needs a format or protocol not allowed for this source (a playlist or a list of other files?): ffmpeg: ${refused[1]}` : undefined;
}
