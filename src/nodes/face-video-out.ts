import { FrameTokenSink, type SinkResult } from '../runtime/jobs';
import { classifySource, defaultQuality, FfmpegLocator } from '../runtime/video';
import type { Node, NodeDef, NodeMessage, Red } from './lib/red';
import { nodeDefaults } from './lib/node-defaults';
import { numberOption } from './lib/config';
import { FaceNode } from './lib/face-node';
import { asFaceError } from './lib/messages';
import { errorStatus, plural, statusText } from './lib/status';

interface Def extends NodeDef {
  config?: string;
  output?: string;
  fps?: number | string;
  quality?: number | string;
  preset?: string;
  keepAudio?: boolean;
  provenance?: boolean;
  /** Seconds to wait for missing frames after the end message before finishing. */
  endTimeout?: number | string;
}

interface Sequence {
  id: string;
  /** Opened on the first frame (its output and audio come with it); undefined while no frame arrived. */
  sink?: FrameTokenSink;
  /** The output, once the first frame named it. */
  output?: string;
  expected?: number;
  endTimer?: NodeJS.Timeout;
  started: number;
  lastStatus: number;
  finishing?: Promise<void>;
  /** A write failed: the error went to the Catch node once; the rest of the video is dropped. */
  failed?: boolean;
  /** Frames whose optional work the downgrade policy dropped (state downgraded_for_performance). */
  downgraded: number;
}

/** On close (redeploy), how long finishing the open video may take before the encoder is killed. */
const CLOSE_FINISH_MS = 10_000;
/** At most this many indexes are skipped for one frame's `msg.video.droppedBefore` (a bad value must not loop for long). */
const MAX_DROPPED_BEFORE = 10_000;
/** How many finished sequence ids are remembered, to drop their late frames. */
const FINISHED_IDS = 16;
/** The sequence id of messages without msg.parts: never treated as finished. */
const DEFAULT_ID = 'stream';

/** Frames of a video that arrived or were skipped so far. */
function arrived(seq: Sequence): number {
  return seq.sink ? seq.sink.received + seq.sink.skipped : 0;
}

/**
 * Frame tokens → a video file or stream. Frames are written in `msg.parts.index` order and
 * freed; the video ends after `msg.parts.count` frames, on the end message of face-video-in
 * (`msg.complete`, waiting up to `endTimeout` for frames still on their way), or on
 * `msg.command: 'stop'`. Then a summary goes out: { frames, durationSec, fps, dropped, repeated, gaps, output }.
 */
function isLiveSource(source: string): boolean {
  try {
    return classifySource(source).live;
  } catch {
    return false;
  }
}

export = function (RED: Red): void {
  function FaceVideoOut(this: Node, nodeDef: NodeDef): void {
    const face = new FaceNode<Def>(RED, this, nodeDef, { stage: 'video-out' });
    const { node, options: def, config } = face;
    const locator = new FfmpegLocator({ logger: (level, message) => (level === 'info' ? node.log(message) : node.warn(message)) });
    const endTimeoutMs = (numberOption(def.endTimeout) ?? Number(nodeDefaults('face-video-out').endTimeout)) * 1000;
    let seq: Sequence | undefined;
    /** Set while a first frame's sink is being opened. */
    let opening: Promise<void> | undefined;
    // Ids of videos already finished: a frame of theirs arriving late (after End wait) must not
    // start a new file over the finished one.
    const finished: string[] = [];

    face.onInput(async (msg, send, done) => {
      await handle(msg, send);
      done();
    });

    async function handle(msg: NodeMessage, send: (m: NodeMessage) => void): Promise<void> {
      const parts = (msg.parts ?? {}) as { id?: string; index?: number; count?: number };
      if (msg.command === 'stop' || msg.complete !== undefined) {
        if (!seq) {
          // The end of a video none of whose frames arrived yet (they are slower than the end
          // message, or there are none): its frames are waited for like any missing frame; with
          // none to wait for it finishes now, empty. A stop, an end without an id or the end of
          // a video already finished has nothing to finish.
          if (msg.command === 'stop' || typeof parts.id !== 'string' || finished.includes(parts.id)) return;
          seq = { id: parts.id, started: performance.now(), lastStatus: 0, downgraded: 0 };
        }
        if (typeof parts.count === 'number' && parts.count > arrived(seq) && msg.command !== 'stop') {
          // Frames are still in the flow: finish when they arrive, or after endTimeout.
          const current = seq;
          current.expected = parts.count;
          clearTimeout(current.endTimer);
          current.endTimer = setTimeout(() => void finish(current, send), endTimeoutMs);
          return;
        }
        await finish(seq, send);
        return;
      }
      const runtime = config!.runtime;
      const token = runtime.acceptToken(msg.payload);
      const id = parts.id ?? DEFAULT_ID;
      if (finished.includes(id)) {
        runtime.release(token);
        node.warn(`frame ${parts.index ?? '?'} of video ${id} arrived after the video was finished; dropped (raise End wait?)`);
        return;
      }
      if (seq && seq.id === id && seq.failed) {
        runtime.release(token);
        return;
      }
      if (seq && seq.id !== id) await finish(seq, send);
      // The first frame of a video opens its sink (after its msg.output is checked): frames arriving
      // meanwhile wait for that sink instead of opening one of their own on the node's Output.
      while (!seq?.sink && opening) await opening;
      if (!seq?.sink) {
        let opened!: () => void;
        opening = new Promise<void>((resolve) => (opened = resolve));
        try {
          const video = (msg.video ?? {}) as { source?: string; fps?: number };
          const live = typeof video.source === 'string' && isLiveSource(video.source);
          const audioFrom = live ? undefined : runtime.paths.knownSource(video.source);
          // An output named in a message is untrusted: a stream URL of an allowed scheme, or a file in
          // the allowed folders (checked again when the file is created and when it is renamed).
          const fromMessage = typeof msg.output === 'string' && msg.output !== '';
          const output = fromMessage
            ? await runtime.paths.output(msg.output, 'msg.output').catch((error: unknown) => {
                runtime.release(token); // refused: the frame goes with the error
                throw error;
              })
            : (def.output ?? '').trim();
          // A video whose end message came first is already waiting for its frames.
          seq ??= { id, started: performance.now(), lastStatus: 0, downgraded: 0 };
          if (!seq.sink) {
            seq.output = output;
            seq.started = performance.now();
            seq.sink = new FrameTokenSink({
              runtime,
              locator,
              output,
              // msg.video.source can be forged: its audio is read only from a source this runtime opened, or a file in the allowed folders.
              ...(audioFrom ? { audioFrom } : {}),
              keepAudio: def.keepAudio !== false,
              provenance: def.provenance !== false,
              ...(numberOption(def.fps) ? { fps: numberOption(def.fps) } : {}),
              // Blank: the file or the live default (io-defaults.ts), as a job's.
              quality: numberOption(def.quality) ?? defaultQuality(live),
              // Blank: veryfast, or ultrafast for a camera of a high pixel rate per core (io-defaults defaultPreset).
              ...(def.preset ? { preset: def.preset } : {}),
              live,
              // A live video keeps its speed: an index the source dropped shows the previous frame, held
              // on screen by its timestamp (nothing is encoded for it).
              ...(live ? { onSkip: 'hold' as const } : {}),
              ...(fromMessage ? { outputCheck: (path: string) => runtime.paths.contains(path) } : {}),
            });
          }
        } finally {
          opening = undefined;
          opened();
        }
      }
      const current = seq;
      const sink = current.sink!;
      const index = typeof parts.index === 'number' ? parts.index : (token.target.index ?? sink.received);
      const fps = numberOption(def.fps) ?? (msg.video as { fps?: number } | undefined)?.fps;
      // Indexes the source dropped just before this frame (overload): skipped, not waited for.
      const droppedBefore = Math.min(MAX_DROPPED_BEFORE, Math.max(0, Math.floor(Number((msg.video as { droppedBefore?: number } | undefined)?.droppedBefore) || 0)));
      if (droppedBefore > 0 && sink.open) {
        for (let i = index - droppedBefore; i < index; i++) await sink.skip(i).catch(() => undefined);
      }
      // The frame's time (the sum of its stage times) feeds the flow's downgrade policy.
      const policy = runtime.downgrade;
      if (policy) policy.observe(token.journal.reduce((sum, entry) => sum + entry.ms, 0));
      if (token.state === 'downgraded_for_performance') current.downgraded++;
      try {
        await sink.write(token, index, fps);
      } catch (err) {
        runtime.release(token);
        // One error per video (frames in flight together fail together): stop ffmpeg, free its
        // frames, drop what still comes.
        if (current.failed) return;
        current.failed = true;
        await sink.abort();
        throw err;
      }
      if (typeof parts.count === 'number') current.expected = parts.count;
      const now = performance.now();
      if (now - current.lastStatus > 500) {
        current.lastStatus = now;
        const fps = sink.received / ((now - current.started) / 1000);
        node.status({
          fill: 'green',
          shape: 'dot',
          text: statusText([plural(sink.received, 'frame'), `${fps.toFixed(1)} fps`, sink.skipped > 0 && `${sink.skipped} dropped`, current.downgraded > 0 && `${current.downgraded} downgraded`]),
        });
      }
      if (current.expected !== undefined && arrived(current) >= current.expected) await finish(current, send);
    }

    function finish(current: Sequence, send: (m: NodeMessage) => void): Promise<void> {
      if (!current.finishing) {
        clearTimeout(current.endTimer);
        if (seq === current) seq = undefined;
        if (current.id !== DEFAULT_ID) {
          finished.push(current.id);
          if (finished.length > FINISHED_IDS) finished.shift();
        }
        current.finishing = (async () => {
          if (current.failed) return; // already reported, ffmpeg already stopped
          try {
            const result = current.sink ? await current.sink.finish() : undefined;
            if (!result || result.outputPath === undefined) {
              sendEmpty(current, result, send);
              return;
            }
            const summary = {
              frames: result.frames,
              durationSec: result.durationSec,
              fps: result.fps,
              dropped: result.dropped,
              repeated: result.repeated,
              gaps: result.onSkip,
              late: result.late,
              downgraded: current.downgraded,
              output: result.outputPath,
            };
            node.status({
              fill: 'grey',
              shape: 'dot',
              text: statusText([
                `wrote ${plural(result.frames, 'frame')}`,
                `${result.durationSec.toFixed(1)} s`,
                result.repeated > 0 && `${result.repeated} dropped, ${result.onSkip === 'hold' ? 'held' : 'repeated'}`,
              ]),
            });
            send({ payload: summary, parts: { id: current.id, type: 'frames' }, complete: true });
          } catch (err) {
            // One error per video: a write of it may have reported this failure already (the
            // encoder failed to open while the end message was being handled).
            if (current.failed) return;
            current.failed = true;
            const error = asFaceError(err, 'video-out');
            node.status(errorStatus(error));
            node.error(error, { payload: { output: current.output }, error: { code: error.code, message: error.message } });
          }
        })();
      }
      return current.finishing;
    }

    /**
     * A video that ended with no frame written (its end came and none of its frames did within
     * End wait, or it had none): nothing is written, the summary says so (`frames: 0`,
     * `output: null`) and, when frames were announced, a warning says they never arrived.
     */
    function sendEmpty(current: Sequence, result: SinkResult | undefined, send: (m: NodeMessage) => void): void {
      const missing = current.expected ?? 0;
      const summary = {
        frames: 0,
        durationSec: 0,
        fps: result?.fps ?? numberOption(def.fps) ?? 0,
        dropped: Math.max(missing, result?.dropped ?? 0),
        repeated: 0,
        gaps: result?.onSkip ?? 'drop',
        late: 0,
        downgraded: current.downgraded,
        output: null,
      };
      if (missing > 0) node.warn(`video ${current.id} ended but none of its ${plural(missing, 'frame')} arrived within End wait; nothing was written`);
      node.status({ fill: 'grey', shape: 'ring', text: 'no frames: nothing written' });
      send({ payload: summary, parts: { id: current.id, type: 'frames' }, complete: true });
    }

    /** Finishes a video on close (no summary message: the flow is going away); failures are logged. */
    async function closeSequence(current: Sequence): Promise<void> {
      if (current.failed || !current.sink) return;
      try {
        const result = await current.sink.finish();
        if (result.outputPath === undefined) return;
        node.log(`closed "${current.output}" on redeploy: ${result.frames} frames, ${result.dropped} dropped, ${result.repeated} shown as the previous frame`);
      } catch (err) {
        const error = asFaceError(err, 'video-out');
        node.warn(`face-video-out: closing "${current.output}" failed: ${error.code}: ${error.message}`);
      }
    }

    face.onClose(() => {
      const current = seq;
      seq = undefined;
      if (!current) return undefined;
      clearTimeout(current.endTimer);
      // A redeploy mid-video: frames still upstream will not come, but what arrived is kept: the
      // missing indexes are skipped and the container closed properly, so the file is valid.
      // Bounded (Node-RED gives close 15 s): past CLOSE_FINISH_MS the encoder is killed instead.
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          node.warn(`face-video-out: closing "${current.output}" took over ${CLOSE_FINISH_MS / 1000} s; the encoder was stopped and nothing was kept under that name (a stream may have ended early)`);
          resolve(current.sink?.abort());
        }, CLOSE_FINISH_MS);
      });
      return Promise.race([closeSequence(current), timedOut]).finally(() => {
        clearTimeout(timer);
        node.status({});
      });
    });
  }
  RED.nodes.registerType('face-video-out', FaceVideoOut);
};
