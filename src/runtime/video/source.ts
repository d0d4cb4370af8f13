import { FaceError } from '../errors';
import { isSampleRef, resolveSample } from '../samples';

/** Where frames come from: a local file, a network URL, or a capture device. */
export type SourceKind = 'file' | 'url' | 'device';

export interface MediaSource {
  /** What ffmpeg is given after `-i` (a `file://` URL becomes a plain path). */
  readonly input: string;
  readonly kind: SourceKind;
  /** Network streams and devices do not end on their own: the decoder reconnects them. */
  readonly live: boolean;
  /** Lower-case URL scheme for `url` sources. */
  readonly scheme?: string;
}

/** Input URL schemes the decoder accepts; anything else (ftp:, concat:, pipe:, …) is refused. */
export const INPUT_SCHEMES = ['rtsp', 'rtsps', 'rtmp', 'rtmps', 'http', 'https', 'udp', 'tcp', 'srt'] as const;

const SCHEME = /^([a-z][a-z0-9+.-]+):/i;

/**
 * Classifies a decoder input. Throws E_UNSUPPORTED_SOURCE for URL schemes outside
 * INPUT_SCHEMES so ffmpeg's other protocols (file concatenation, pipes, ftp) cannot be reached
 * through a user-supplied path. One-letter "schemes" are Windows drive letters and pass as files.
 */
export function classifySource(input: string): MediaSource {
  if (typeof input !== 'string' || input.trim() === '') {
    throw new FaceError('E_UNSUPPORTED_SOURCE', 'video source is empty: give a file path, a stream URL or a /dev/video* device');
  }
  if (isSampleRef(input)) return { input: resolveSample(input), kind: 'file', live: false }; // a clip shipped in samples/
  if (/^\/dev\/video\d+$/.test(input)) return { input, kind: 'device', live: true };
  const match = SCHEME.exec(input);
  if (!match) return { input, kind: 'file', live: false };
  const scheme = match[1].toLowerCase();
  if (scheme === 'file') {
    const path = input.replace(/^file:(\/\/)?/i, '');
    return { input: decodeURIComponent(path), kind: 'file', live: false };
  }
  if ((INPUT_SCHEMES as readonly string[]).includes(scheme)) return { input, kind: 'url', live: true, scheme };
  throw new FaceError(
    'E_UNSUPPORTED_SOURCE',
    `unsupported video source "${input}": scheme ${scheme}: is not allowed (use a file path, ${INPUT_SCHEMES.map((s) => s + '://').join(', ')} or /dev/video*)`,
    { details: { input, scheme } },
  );
}

/** Text with the `user:password@` of every URL in it replaced by `***@`, for messages and logs (camera URLs carry credentials). */
export function redactUrl(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^/@\s]*@/gi, '$1***@');
}

/** An http:// or https:// source (its requests can go through an HTTP proxy). */
export function isHttpSource(source: MediaSource): boolean {
  return source.kind === 'url' && (source.scheme === 'http' || source.scheme === 'https');
}

/** The environment for an ffmpeg child whose HTTP requests must go through a given proxy: no `no_proxy` bypass. */
export function guardedEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const out = { ...env };
  for (const key of Object.keys(out)) if (/^no_proxy$/i.test(key)) delete out[key];
  return out;
}
