import { randomUUID } from 'crypto';
import { FaceError } from '../runtime';
import { FrameTokenSource } from '../runtime/jobs';
import { FfmpegLocator } from '../runtime/video';
import type { Node, NodeDef, NodeMessage, Red } from './lib/red';
import { configOf, missingConfig, numberOption } from './lib/stage-node';
import { asFaceError, shorten } from './lib/messages';

interface Def extends NodeDef {
  config?: string;
  source?: string;
  maxInFlight?: number | string;
}

/**
 * A video file, stream (rtsp/http/udp/…) or camera → one face token per frame on output 1
 * (`msg.parts` = { id, index, count on the last frame, type: 'frames' }), then an end message
 * on output 2. Started by any message (msg.payload string = source), stopped by
 * `msg.command: 'stop'`. Backpressure: the decoder waits while `maxInFlight` frames are out.
 */
export = function (RED: Red): void {
  function FaceVideoIn(this: Node, nodeDef: NodeDef): void {
    RED.nodes.createNode(this, nodeDef);
    const node = this;
    const def = nodeDef as Def;
    const config = configOf(RED, node, def.config);
    const locator = new FfmpegLocator({ logger: (level, message) => (level === 'info' ? node.log(message) : node.warn(message)) });
    const maxInFlight = numberOption(def.maxInFlight) ?? 4;
    let current: { source: FrameTokenSource; done: Promise<void> } | undefined;

    node.on('input', (msg: NodeMessage, _send, done) => {
      if (!config) {
        done(missingConfig(nodeDef.type));
        return;
      }
      if (msg.command === 'stop') {
        const stopping = current;
        if (!stopping) {
          done();
          return;
        }
        void stopping.source.stop().then(() => stopping.done).then(() => done(), done);
        return;
      }
      if (current) {
        node.warn('face-video-in is already running; send msg.command "stop" first');
        done();
        return;
      }
      const input = typeof msg.payload === 'string' && msg.payload.trim() !== '' ? msg.payload.trim() : (def.source ?? '').trim();
      try {
        if (!input) throw missingSource();
        const source = new FrameTokenSource({
          runtime: config.runtime,
          locator,
          input,
          maxInFlight,
          onReconnect: (attempt, delayMs, reason) => {
            node.status({ fill: 'yellow', shape: 'ring', text: shorten(`reconnecting (${attempt}) in ${delayMs} ms`) });
            node.warn(`video source lost (${reason}); reconnect attempt ${attempt} in ${delayMs} ms`);
          },
        });
        current = { source, done: Promise.resolve() };
        current.done = pump(source, input, msg).finally(() => {
          current = undefined;
        });
        done();
      } catch (err) {
        const error = asFaceError(err, 'video-in');
        node.status({ fill: 'red', shape: 'dot', text: shorten(`${error.code}: ${error.message}`) });
        done(error);
      }
    });

    /** Sends every frame token, then the end message; errors go to the Catch node with the start msg. */
    async function pump(source: FrameTokenSource, input: string, startMsg: NodeMessage): Promise<void> {
      const id = randomUUID();
      const started = performance.now();
      let lastStatus = 0;
      node.status({ fill: 'yellow', shape: 'ring', text: 'opening…' });
      try {
        await config!.ready;
        for await (const item of source.tokens()) {
          const parts: Record<string, unknown> = { id, index: item.index, type: 'frames' };
          if (item.last) parts.count = item.index + 1;
          const video = { source: input, fps: item.stream.fps, width: item.stream.width, height: item.stream.height, ...(item.stream.hasAudio ? { hasAudio: true } : {}) };
          // Separate send() calls per output keep each message uncloned.
          node.send([{ payload: item.token, parts, video, topic: startMsg.topic }, null]);
          const now = performance.now();
          if (now - lastStatus > 500) {
            lastStatus = now;
            const fps = source.frames / ((now - started) / 1000);
            node.status({ fill: 'green', shape: 'dot', text: `${source.frames} frames · ${fps.toFixed(1)} fps` });
          }
        }
        const durationSec = (source.info?.fps ?? 0) > 0 ? source.frames / source.info!.fps : 0;
        node.status({ fill: 'grey', shape: 'dot', text: `ended · ${source.frames} frames` });
        node.send([null, { payload: { frames: source.frames, durationSec, source: input }, parts: { id, count: source.frames, type: 'frames' }, complete: true, topic: startMsg.topic }]);
      } catch (err) {
        const error = asFaceError(err, 'video-in');
        node.status({ fill: 'red', shape: 'dot', text: shorten(`${error.code}: ${error.message}`) });
        node.error(error, { ...startMsg, error: { code: error.code, message: error.message } });
      }
    }

    node.on('close', (_removed: boolean, done: () => void) => {
      const running = current;
      if (!running) {
        node.status({});
        done();
        return;
      }
      void running.source
        .stop()
        .then(() => running.done)
        .finally(() => {
          node.status({});
          done();
        });
    });
  }

  function missingSource(): Error {
    return new FaceError('E_UNSUPPORTED_SOURCE', 'face-video-in has no source: set one in the node or send it as msg.payload (a path, rtsp:// URL or /dev/video0)');
  }

  RED.nodes.registerType('face-video-in', FaceVideoIn);
};
