/**
 * The defaults of the video I/O (decoder, encoder, probe), in one place. Each option that falls
 * back to one of these says so in its own doc; changing a value here changes that behaviour.
 */

import { availableParallelism } from 'os';

/** Network read timeout given to ffmpeg for a decoder's input and an encoder's audio input (ms). */
export const IO_TIMEOUT_MS = 10_000;
/** Stream analysis before the first frame of a live source (ms; ffmpeg's own default is 5000). */
export const LIVE_ANALYZE_MS = 1000;
/** How long a decoder waits for ffmpeg's stream info after starting it (ms). */
export const OPEN_TIMEOUT_MS = 30_000;
/** How long a probe may take before it gives up (ms); counting frames may take ten times this. */
export const PROBE_TIMEOUT_MS = 20_000;
/** Frame rate assumed when ffmpeg prints none for a stream. */
export const FALLBACK_FPS = 25;

/** Reconnect attempts in a row before a live source is given up. */
export const MAX_RECONNECTS = 10;
/** First reconnect delay (ms), doubled each attempt up to RECONNECT_MAX_MS. */
export const RECONNECT_BASE_MS = 500;
export const RECONNECT_MAX_MS = 8000;

/**
 * How much of a live source's time its overload queue holds before its policy drops: a third of a
 * second of frames (8 at 25 fps), at least LIVE_MIN_QUEUE. Every waiting frame adds its interval to
 * the delay behind the camera: a queue of a second (25 frames) kept a 720p privacy job up to 0.9 s
 * behind for the seconds it took to work off a burst (BENCHMARKS.md §15).
 */
export const LIVE_QUEUE_SEC = 0.3;
export const LIVE_MIN_QUEUE = 3;

/** The default overload queue of a live source at `fps` frames a second (FALLBACK_FPS while its rate is not known). */
export function liveQueueFrames(fps: number): number {
  return Math.max(LIVE_MIN_QUEUE, Math.round(LIVE_QUEUE_SEC * (fps > 0 ? fps : FALLBACK_FPS)));
}

/** `every-nth`: keep one frame in this many. */
export const EVERY_NTH = 2;

/** The encoder's video codec. */
export const VIDEO_CODEC = 'libx264';
/** Encoder quality 0–100 (→ CRF 10, see qualityToCrf in ffmpeg-args.ts). */
export const QUALITY = 80;
/**
 * A live source's encoder quality (→ CRF 18): a camera's stream arrives compressed already, and
 * CRF 10 re-encoded the 3.3 Mbit/s 1080p stand-in at 5.3 Mbit/s — more than the camera sent —
 * with x264 taking 26 ms of CPU a frame (0.64 of a core at 25 fps) against 20 ms at CRF 18
 * (1.35 Mbit/s); those 6 ms a frame were what a 1080p privacy job lacked to keep up with its
 * camera (BENCHMARKS.md §15). `quality` or `crf` set on the job win.
 */
export const LIVE_QUALITY = 60;

/** The encoder quality when a job or a face video out sets none: LIVE_QUALITY for a live source, QUALITY otherwise. */
export function defaultQuality(live: boolean): number {
  return live ? LIVE_QUALITY : QUALITY;
}
/** x264/x265 preset. */
export const PRESET = 'veryfast';
/**
 * A live source's preset when the encoder would take too large a share of the machine: from
 * LIVE_FAST_PIXELS_PER_CORE pixels a second per core (a 1080p camera at 25 fps on 2 cores: 26
 * million) ultrafast instead of veryfast. Why: a live job must keep up with its camera, and the
 * encoder competes for the same cores. Measured on the 1080p pan clip at CRF 20 (BENCHMARKS.md
 * §15): x264 veryfast took 19–28 ms of CPU a frame, ultrafast 9–12 ms, and with veryfast the
 * whole 1080p privacy job needed 72–84 ms of the machine's CPU a frame against the 80 ms two
 * cores have at 25 fps. The price is the file: ultrafast's 20 s were 11.1 MB against 2.5 MB
 * (the camera sent 8.4 MB). A 720p camera (11.5 million a core) keeps veryfast. `preset` set on
 * the job or node wins.
 */
export const LIVE_FAST_PRESET = 'ultrafast';
export const LIVE_FAST_PIXELS_PER_CORE = 16_000_000;

/** The encoder preset when none is set: PRESET, or LIVE_FAST_PRESET for a live source of a high pixel rate per core (see there). */
export function defaultPreset(live: boolean, width: number, height: number, fps: number, cores: number = availableParallelism()): string {
  if (!live) return PRESET;
  const perCore = (width * height * (fps > 0 ? fps : FALLBACK_FPS)) / Math.max(1, cores);
  return perCore >= LIVE_FAST_PIXELS_PER_CORE ? LIVE_FAST_PRESET : PRESET;
}
/** A stream output's key-frame interval, in seconds of video (viewers joining wait at most this). */
export const STREAM_GOP_SECONDS = 2;

/** Frames the encoder parks behind a missing index: this many seconds of frames, at least MIN_PARKED… */
export const PARK_SECONDS = 2;
export const MIN_PARKED = 8;
/** …and never more than this share of the frame store's budget. */
export const PARK_BUDGET_SHARE = 1 / 4;

/** How long a killed ffmpeg gets between SIGTERM and SIGKILL (ms). */
export const KILL_GRACE_MS = 2000;
