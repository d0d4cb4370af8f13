import { statSync } from 'fs';
import { FaceError } from '../errors';
import type { FfmpegLocator } from './ffmpeg-path';
import { describeExit, FfmpegProcess } from './process';
import { classifySource } from './source';
import { countFramesArgs, probeArgs } from './ffmpeg-args';
import { FALLBACK_FPS, PROBE_TIMEOUT_MS } from './io-defaults';
import { assertHostResolves, explainFfmpegFailure } from './host-check';

/** What a video source holds, as ffmpeg reports it. */
export interface MediaInfo {
  width: number;
  height: number;
  /** Frames per second (NTSC rates are exact: 23.98 → 24000/1001). */
  fps: number;
  /** Absent for live streams. */
  durationSec?: number;
  /** Counted when `countFrames` was asked for, else estimated from duration × fps (files only). */
  frameCount?: number;
  hasAudio: boolean;
  audioCodec?: string;
  videoCodec?: string;
}

export interface ProbeOptions {
  /** Decode the whole video once to count frames exactly (files only; costs one decode). */
  countFrames?: boolean;
  /** Give up after this long (ms, default PROBE_TIMEOUT_MS: 20000); network sources can hang while connecting. */
  timeoutMs?: number;
}

/** One `Stream #…: Video:` line, parsed. */
export interface StreamInfo {
  width: number;
  height: number;
  fps?: number;
  codec: string;
  /** The colour matrix ffmpeg printed for the stream, when it is BT.709 (else BT.601 is assumed, as ffmpeg does). */
  matrix?: 'bt709';
}

/** The parts of ffmpeg's stderr stream dump that the video code needs. */
export interface ParsedDump {
  input?: { durationSec?: number; video?: StreamInfo; audioCodec?: string };
  output?: { video?: StreamInfo };
}

/**
 * Parses ffmpeg's "Input #0 … / Output #0 …" dump. Works from ffmpeg 4 to 7: stream lines look
 * like `Stream #0:0[0x1](und): Video: h264 (High) (avc1 / 0x…), yuv420p(tv, …), 512x512 [SAR 1:1 …], 25 fps, 25 tbr, …`.
 */
export function parseFfmpegDump(text: string): ParsedDump {
  const result: ParsedDump = {};
  let section: 'input' | 'output' | undefined;
  for (const line of text.split(/\r\n|\r|\n/)) {
    // The first dump wins: later text (a repeated tail) must not replace it.
    if (/^Input #0\b/.test(line)) {
      section = result.input ? undefined : 'input';
      result.input ??= {};
      continue;
    }
    if (/^Input #\d+/.test(line)) {
      section = undefined;
      continue;
    }
    if (/^Output #0\b/.test(line)) {
      section = result.output ? undefined : 'output';
      result.output ??= {};
      continue;
    }
    if (/^(Output #\d+|Stream mapping:)/.test(line)) {
      section = undefined;
      continue;
    }
    if (section === 'input' && result.input) {
      const duration = /^\s+Duration: (\d+):(\d+):(\d+(?:\.\d+)?)/.exec(line);
      if (duration) result.input.durationSec = Number(duration[1]) * 3600 + Number(duration[2]) * 60 + Number(duration[3]);
      const video = parseVideoStream(line);
      if (video && !result.input.video) result.input.video = video;
      const audio = /^\s+Stream #\d+:\d+\S*: Audio: ([\w-]+)/.exec(line);
      if (audio && !result.input.audioCodec) result.input.audioCodec = audio[1];
    } else if (section === 'output' && result.output) {
      const video = parseVideoStream(line);
      if (video && !result.output.video) result.output.video = video;
    }
  }
  return result;
}

function parseVideoStream(line: string): StreamInfo | undefined {
  const head = /^\s+Stream #\d+:\d+\S*: Video: ([\w-]+)(.*)$/.exec(line);
  if (!head) return undefined;
  // A size never starts with 0: "0x0002" is a codec tag (MPEG-TS prints `([2][0][0][0] / 0x0002)`).
  const size = /(?<![\w.])([1-9]\d{0,4})x([1-9]\d{0,4})(?![\w.])/.exec(head[2]);
  if (!size) return undefined;
  const rate = /([\d.]+)(k?) fps/.exec(head[2]) ?? /([\d.]+)(k?) tbr/.exec(head[2]);
  const fps = rate ? exactFps(Number(rate[1]) * (rate[2] ? 1000 : 1)) : undefined;
  // e.g. "yuv420p(tv, bt709, progressive)": the first colour field is the matrix.
  const matrix = /\((?:tv|pc), bt709\b/.test(head[2]) ? { matrix: 'bt709' as const } : {};
  return { codec: head[1], width: Number(size[1]), height: Number(size[2]), ...(fps ? { fps } : {}), ...matrix };
}

/** ffmpeg prints rates rounded to 2 decimals; NTSC rates are really n·1000/1001. */
export function exactFps(printed: number): number | undefined {
  if (!(printed > 0) || !Number.isFinite(printed)) return undefined;
  for (const base of [24, 30, 48, 60, 120]) {
    const ntsc = (base * 1000) / 1001;
    if (Math.abs(printed - ntsc) < 0.006) return ntsc;
  }
  return printed;
}

/** Throws E_VIDEO_OPEN when a file source does not exist or is not a regular file. */
export function assertReadableFile(path: string): void {
  let isFile: boolean;
  try {
    isFile = statSync(path).isFile();
  } catch {
    throw new FaceError('E_VIDEO_OPEN', `cannot open video "${path}": the file does not exist`, { details: { input: path } });
  }
  if (!isFile) throw new FaceError('E_VIDEO_OPEN', `cannot open video "${path}": it is not a regular file`, { details: { input: path } });
}

/**
 * Probes a video source with `ffmpeg -i` (no ffprobe: the bundled static ffmpeg has none).
 * Throws E_UNSUPPORTED_SOURCE for a disallowed URL scheme and E_VIDEO_OPEN, naming the input,
 * when the source is missing, unreadable or has no video stream.
 */
export async function probeMedia(locator: FfmpegLocator, input: string, options: ProbeOptions = {}): Promise<MediaInfo> {
  const source = classifySource(input);
  if (source.kind === 'file') assertReadableFile(source.input);
  const timeoutMs = options.timeoutMs ?? PROBE_TIMEOUT_MS;
  await assertHostResolves(source, timeoutMs);
  const ffmpeg = await locator.resolve();
  const { head, tail } = await runForStderr(ffmpeg.path, probeArgs(source, timeoutMs, ffmpeg.major), timeoutMs, input);
  const dump = parseFfmpegDump(head);
  if (!dump.input) {
    throw new FaceError('E_VIDEO_OPEN', `cannot open video "${input}": ${explainFfmpegFailure(tail) ?? (lastLine(tail) || 'ffmpeg could not read it')}`, { details: { input } });
  }
  const video = dump.input.video;
  if (!video) throw new FaceError('E_VIDEO_OPEN', `cannot open video "${input}": it has no video stream`, { details: { input } });
  const fps = video.fps ?? FALLBACK_FPS;
  const info: MediaInfo = {
    width: video.width,
    height: video.height,
    fps,
    hasAudio: dump.input.audioCodec !== undefined,
    videoCodec: video.codec,
    ...(dump.input.audioCodec ? { audioCodec: dump.input.audioCodec } : {}),
  };
  if (!source.live && dump.input.durationSec !== undefined) {
    info.durationSec = dump.input.durationSec;
    info.frameCount = Math.round(dump.input.durationSec * fps);
  }
  if (options.countFrames && !source.live) {
    // Same constant-rate output as the decoder (-r), so the count matches what it will emit.
    const count = await runForStderr(ffmpeg.path, countFramesArgs(source, timeoutMs, ffmpeg.major, fps), timeoutMs * 10, input);
    const frames = [...count.tail.matchAll(/frame=\s*(\d+)/g)];
    if (frames.length > 0) info.frameCount = Number(frames[frames.length - 1][1]);
  }
  return info;
}

/** Runs ffmpeg to completion (or timeout) and returns its stderr. */
async function runForStderr(binary: string, args: string[], timeoutMs: number, input: string): Promise<{ head: string; tail: string }> {
  const child = new FfmpegProcess(binary, args, { headChars: 256 * 1024 });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    void child.kill();
  }, timeoutMs);
  try {
    const exit = await child.exited;
    if (exit.error) throw new FaceError('E_FFMPEG_MISSING', describeExit(exit), { cause: exit.error });
    if (timedOut) throw new FaceError('E_VIDEO_OPEN', `cannot open video "${input}": no answer within ${timeoutMs} ms`, { details: { input } });
    // Stats lines end with \r only; the tail keeps the final one.
    return { head: child.stderrHead(), tail: child.stderrTail() };
  } finally {
    clearTimeout(timer);
  }
}

function lastLine(tail: string): string {
  const lines = tail.split('\n').filter((l) => l && !/At least one output file must be specified/.test(l));
  return lines[lines.length - 1] ?? '';
}
