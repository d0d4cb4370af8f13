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

/**
 * The ffmpeg protocols a source needs, and no others: a stream URL's own protocol with the
 * transports under it. A playlist (HLS, DASH) behind an http URL cannot make ffmpeg open a
 * `file:` segment, `concat:` or `subfile:` of local files: those protocols are not on the list.
 */
export function protocolWhitelist(source: MediaSource): string | undefined {
  if (source.kind === 'device') return undefined;
  if (source.kind === 'file') return 'file';
  switch (source.scheme) {
    case 'rtsp':
    case 'rtsps':
      return 'rtsp,rtsps,rtp,srtp,udp,tcp,tls';
    case 'rtmp':
    case 'rtmps':
      return 'rtmp,rtmps,tcp,tls';
    case 'http':
    case 'https':
      return 'http,https,tcp,tls,crypto';
    case 'udp':
      return 'udp,rtp';
    case 'tcp':
      return 'tcp';
    case 'srt':
      return 'srt,udp';
    default:
      return undefined;
  }
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

/**
 * Demuxers a file source may be read with: containers and elementary streams that hold their
 * own media. Playlists and lists of other files (hls, dash, concat, image2 patterns, sdp,
 * tee…) are not on it, so a local `.m3u8` (whatever its name) cannot make ffmpeg read a file
 * outside the folder it was checked in: `Format not on whitelist`. MP4/MOV reference tracks stay
 * off (the mov demuxer's `enable_drefs` defaults to 0).
 */
export const FILE_FORMATS = 'mov,matroska,webm,avi,mpegts,mpeg,mpegvideo,flv,ogg,asf,nut,mxf,dv,h264,hevc,m4v,mjpeg,ivf,yuv4mpegpipe,gif,apng,wav,mp3,aac,flac';

/** ffmpeg output options that keep an output to its own protocol (before the output name). */
export function outputWhitelist(output: string): string[] {
  if (output === 'pipe:1' || output === '-') return ['-protocol_whitelist', 'pipe'];
  return ['-protocol_whitelist', protocolWhitelist(classifySource(output)) ?? 'file'];
}

/**
 * ffmpeg input options for a source: TCP transport and a socket timeout for RTSP, an I/O timeout
 * for other network protocols (so a dead stream ends ffmpeg instead of hanging it), v4l2 for
 * devices, and a short stream analysis (`analyzeMs`) for live sources. `ffmpegMajor` picks the
 * RTSP timeout option, which was renamed in ffmpeg 5.
 */
export function inputArgs(source: MediaSource, ioTimeoutMs: number, ffmpegMajor?: number, analyzeMs = 1000, guard?: { proxy: string }): string[] {
  const micros = (ms: number): string => String(Math.max(1, Math.round(ms * 1000)));
  // ffmpeg's default 5 s of stream analysis delays every (re)connect of a live source.
  const analyze = source.live ? ['-analyzeduration', micros(analyzeMs)] : [];
  if (source.kind === 'device') return ['-f', 'v4l2', ...analyze];
  // Every HTTP(S) request of a guarded input (playlist, segments, redirects) goes through the guard's proxy.
  const proxied = guard && isHttpSource(source) ? ['-http_proxy', guard.proxy] : [];
  const whitelist = ['-protocol_whitelist', `${protocolWhitelist(source) as string}${proxied.length ? ',httpproxy' : ''}`, ...proxied];
  if (source.kind !== 'url') return [...whitelist, '-format_whitelist', FILE_FORMATS];
  if (source.scheme === 'rtsp' || source.scheme === 'rtsps') {
    const args = [...whitelist, '-rtsp_transport', 'tcp', ...analyze];
    // ffmpeg 4's rtsp `-timeout` means "listen as a server"; its socket timeout was `-stimeout`.
    if (ffmpegMajor !== undefined) args.push(ffmpegMajor >= 5 ? '-timeout' : '-stimeout', micros(ioTimeoutMs));
    return args;
  }
  return [...whitelist, ...analyze, '-rw_timeout', micros(ioTimeoutMs)];
}
