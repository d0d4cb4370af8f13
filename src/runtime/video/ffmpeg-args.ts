/**
 * Every ffmpeg command line the video I/O runs, built by pure functions from plain options
 * (no process, no file system): the decoder's, the encoder's and the probe's, with the
 * protocol and format whitelists that keep each input and output to what it names.
 * test/ffmpeg-args.test.js pins them.
 */
import { extname } from 'path';
import { LIVE_ANALYZE_MS, PRESET, QUALITY, STREAM_GOP_SECONDS, VIDEO_CODEC } from './io-defaults';
import { classifySource, isHttpSource, type MediaSource } from './source';

export type RawPixelFormat = 'rgb24' | 'yuv420p';

/** The options every run starts with (no banner, no stdin, no progress lines). */
export function globalArgs(loglevel: 'error' | 'info'): string[] {
  return ['-hide_banner', '-nostdin', '-nostats', '-loglevel', loglevel];
}

/** A frame rate as an ffmpeg argument: exact fraction for NTSC rates, decimal otherwise. */
export function fpsArg(fps: number): string {
  for (const base of [24, 30, 48, 60, 120]) {
    if (Math.abs(fps - (base * 1000) / 1001) < 1e-6) return `${base * 1000}/1001`;
  }
  return String(Math.round(fps * 1000) / 1000);
}

/** quality 0–100 → CRF 51–0, linear (FaceFusion's mapping: 80 → 10). */
export function qualityToCrf(quality: number): number {
  return Math.round(51 - (Math.min(100, Math.max(0, quality)) * 51) / 100);
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
 * RTSP timeout option, which was renamed in ffmpeg 5. With `guard`, every HTTP(S) request of
 * the input (playlist, segments, redirects) goes through the guard's proxy.
 */
export function inputArgs(source: MediaSource, ioTimeoutMs: number, ffmpegMajor?: number, analyzeMs = LIVE_ANALYZE_MS, guard?: { proxy: string }): string[] {
  const micros = (ms: number): string => String(Math.max(1, Math.round(ms * 1000)));
  // ffmpeg's default 5 s of stream analysis delays every (re)connect of a live source.
  const analyze = source.live ? ['-analyzeduration', micros(analyzeMs)] : [];
  if (source.kind === 'device') return ['-f', 'v4l2', ...analyze];
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

/** The probe's run: the input alone (ffmpeg prints its dump and stops: no output given). */
export function probeArgs(source: MediaSource, timeoutMs: number, ffmpegMajor?: number): string[] {
  return ['-hide_banner', '-nostdin', ...inputArgs(source, timeoutMs, ffmpegMajor), '-i', source.input];
}

/** The probe's frame count: a whole decode at the decoder's constant rate (-r) into the null muxer. */
export function countFramesArgs(source: MediaSource, timeoutMs: number, ffmpegMajor: number | undefined, fps: number): string[] {
  return ['-nostdin', ...inputArgs(source, timeoutMs, ffmpegMajor), '-i', source.input, '-map', '0:v:0', '-r', fpsArg(fps), '-f', 'null', '-'];
}

export interface DecoderArgsOptions {
  source: MediaSource;
  ioTimeoutMs: number;
  ffmpegMajor?: number;
  analyzeMs?: number;
  /** The HTTP(S) guard's proxy (a source from a message). */
  guard?: { proxy: string };
  /** Extra input options, before `-i`. */
  inputOptions?: readonly string[];
  /** Scale every frame to this size. */
  scale?: { width: number; height: number };
  /** Output at this constant rate (a live source keeps its first rate across reconnects). */
  fps?: number;
  pixelFormat?: RawPixelFormat;
}

/** The decoder's run: the first video stream, raw frames on stdout. */
export function decoderArgs(o: DecoderArgsOptions): string[] {
  const args = globalArgs('info');
  args.push(...inputArgs(o.source, o.ioTimeoutMs, o.ffmpegMajor, o.analyzeMs, o.guard), ...(o.inputOptions ?? []), '-i', o.source.input);
  args.push('-map', '0:v:0', '-an', '-sn');
  if (o.scale) args.push('-vf', `scale=${o.scale.width}:${o.scale.height}`);
  if (o.fps !== undefined) args.push('-r', String(o.fps));
  args.push('-f', 'rawvideo', '-pix_fmt', o.pixelFormat ?? 'rgb24', '-protocol_whitelist', 'pipe', 'pipe:1');
  return args;
}

/** Container formats by stream URL scheme, for an encoder's URL output. */
export const STREAM_FORMATS: Readonly<Record<string, string>> = { rtmp: 'flv', rtmps: 'flv', rtsp: 'rtsp', rtsps: 'rtsp', udp: 'mpegts', tcp: 'mpegts', srt: 'mpegts' };

/** Containers by file extension, for an output written through a descriptor (no name to guess from). */
export const FILE_CONTAINERS: Readonly<Record<string, string>> = { '.mp4': 'mp4', '.m4v': 'mp4', '.mov': 'mov', '.mkv': 'matroska', '.webm': 'webm', '.avi': 'avi', '.ts': 'mpegts', '.flv': 'flv' };

export type OutputTarget = { kind: 'file'; path: string } | { kind: 'url'; format: string; scheme: string };

/**
 * What an encoder output names, from its text alone: a stream URL (its container from its
 * scheme) or a file path. An unknown scheme is `unsupported` (the encoder refuses it).
 */
export function outputTarget(output: string): OutputTarget | { kind: 'unsupported' } {
  const match = /^([a-z][a-z0-9+.-]+):\/\//i.exec(output);
  if (!match) return { kind: 'file', path: output };
  const scheme = match[1].toLowerCase();
  const format = STREAM_FORMATS[scheme];
  return format ? { kind: 'url', format, scheme } : { kind: 'unsupported' };
}

/**
 * A file written through a descriptor the caller opened: the child's path of it (`fdPath`, e.g.
 * /proc/self/fd/3) and the container from the file's extension. Undefined when either is unknown
 * (then ffmpeg opens the path itself).
 */
export function fdOutputFor(file: string, fdPath: string | undefined): { path: string; format: string } | undefined {
  const format = FILE_CONTAINERS[extname(file).toLowerCase()];
  return fdPath && format ? { path: fdPath, format } : undefined;
}

/** x264/x265 rate control: the CRF (`crf` wins over `quality`) and the preset. */
export function x264Args(o: { crf?: number; quality?: number; preset?: string }): string[] {
  return ['-crf', String(o.crf ?? qualityToCrf(o.quality ?? QUALITY)), '-preset', o.preset ?? PRESET];
}

/** The colour matrix tag of a YUV input, so players read the values as the source meant them. */
export function colourTagArgs(pixelFormat: RawPixelFormat | undefined, matrix: 'bt709' | undefined): string[] {
  return pixelFormat === 'yuv420p' && matrix === 'bt709' ? ['-colorspace', 'bt709'] : [];
}

/** Raw frames on stdin, each at index / fps. */
export function rawPipeInputArgs(o: { width: number; height: number; fps: number; pixelFormat?: RawPixelFormat }): string[] {
  return ['-f', 'rawvideo', '-pixel_format', o.pixelFormat ?? 'rgb24', '-video_size', `${o.width}x${o.height}`, '-framerate', fpsArg(o.fps), '-protocol_whitelist', 'pipe', '-i', 'pipe:0'];
}

/** Raw frames on stdin in a Matroska stream, each with its own timestamp (raw-matroska.ts). */
export function matroskaPipeInputArgs(): string[] {
  return ['-f', 'matroska', '-protocol_whitelist', 'pipe', '-i', 'pipe:0'];
}

/**
 * The caller's output options with `-metadata key=value` for each entry before them. MP4/MOV
 * keep only their standard keys unless asked (`+use_metadata_tags`): added to the movflags the
 * caller gives (a second -movflags would replace the first), or as an option of its own.
 */
export function metadataArgs(metadata: Record<string, string> | undefined, file: string | undefined, outputOptions: readonly string[]): string[] {
  const options = [...outputOptions];
  if (!metadata || Object.keys(metadata).length === 0) return options;
  const args: string[] = [];
  for (const [key, value] of Object.entries(metadata)) args.push('-metadata', `${key}=${value}`);
  if (file !== undefined && /\.(mp4|m4v|mov)$/i.test(file)) {
    const given = options.indexOf('-movflags');
    if (given >= 0 && given + 1 < options.length) options[given + 1] = `${options[given + 1]}+use_metadata_tags`;
    else args.push('-movflags', '+use_metadata_tags');
  }
  return [...args, ...options];
}

export interface EncoderArgsOptions {
  /** The output as given (file path or stream URL). */
  output: string;
  /** `outputTarget(output)`, when it is supported. */
  target: OutputTarget;
  width: number;
  height: number;
  fps: number;
  ffmpegMajor?: number;
  pixelFormat?: RawPixelFormat;
  matrix?: 'bt709';
  /** Frames come in a Matroska stream with their timestamps (the encoder's `hold`): variable frame rate out. */
  timestamped?: boolean;
  /** The source whose first audio stream is muxed in (when given and `keepAudio` is not false). */
  audioFrom?: string;
  keepAudio?: boolean;
  codec?: string;
  crf?: number;
  quality?: number;
  preset?: string;
  format?: string;
  /** `fdOutputFor(...)`: ffmpeg writes the file through this descriptor. */
  fdOutput?: { path: string; format: string };
  metadata?: Record<string, string>;
  outputOptions?: readonly string[];
  /** The audio input's network read timeout (ms). */
  audioIoTimeoutMs: number;
}

/** The encoder's run: frames from stdin (and the audio of the source), x264 out to a file or stream. */
export function encoderArgs(o: EncoderArgsOptions): string[] {
  const args = globalArgs('error');
  args.push(...(o.timestamped ? matroskaPipeInputArgs() : rawPipeInputArgs(o)));
  const withAudio = o.audioFrom !== undefined && o.keepAudio !== false;
  if (withAudio) {
    const source = classifySource(o.audioFrom as string);
    args.push(...inputArgs(source, o.audioIoTimeoutMs, o.ffmpegMajor), '-i', source.input);
  }
  args.push('-map', '0:v:0');
  // Timestamped frames keep their times (a gap is a longer frame), not duplicated back to a constant rate.
  // -fps_mode arrived in ffmpeg 5.1 and -vsync is deprecated since: the old name below 6.
  if (o.timestamped) args.push(...((o.ffmpegMajor ?? 0) >= 6 ? ['-fps_mode', 'vfr'] : ['-vsync', 'vfr']));
  // `?`: a source without audio is fine. -shortest trims the tail to the shorter stream.
  if (withAudio) args.push('-map', '1:a:0?', '-c:a', 'aac', '-shortest');
  // yuv420p needs even dimensions: pad odd ones by a pixel rather than fail.
  if (o.width % 2 || o.height % 2) args.push('-vf', 'pad=ceil(iw/2)*2:ceil(ih/2)*2');
  const codec = o.codec ?? VIDEO_CODEC;
  args.push('-c:v', codec);
  if (codec === 'libx264' || codec === 'libx265') {
    args.push(...x264Args(o));
    if (o.target.kind === 'url') {
      args.push('-tune', 'zerolatency', '-g', String(Math.max(1, Math.round(o.fps * STREAM_GOP_SECONDS))));
      // Timestamped, fewer frames may carry the same time: a key frame every GOP of it, for viewers joining.
      if (o.timestamped) args.push('-force_key_frames', `expr:gte(t,n_forced*${STREAM_GOP_SECONDS})`);
    }
  }
  args.push('-pix_fmt', 'yuv420p', ...colourTagArgs(o.pixelFormat, o.matrix));
  if (o.target.kind === 'url') {
    if (o.target.format === 'rtsp') args.push('-rtsp_transport', 'tcp');
    args.push('-f', o.format ?? o.target.format);
  } else if (o.format || o.fdOutput) {
    args.push('-f', o.format ?? (o.fdOutput as { format: string }).format);
  }
  args.push(...metadataArgs(o.metadata, o.target.kind === 'file' ? o.target.path : undefined, o.outputOptions ?? []));
  // The output too opens only its own protocol (a file name cannot become a URL, nor a URL reach a file).
  const written = o.target.kind === 'file' ? (o.fdOutput?.path ?? o.target.path) : o.output;
  args.push(...outputWhitelist(written), '-y', written);
  return args;
}
