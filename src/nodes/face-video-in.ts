import { randomUUID } from 'crypto';
import { FaceError } from '../runtime';
import { FrameTokenSource } from '../runtime/jobs';
import { InFlightLimit } from '../runtime/store';
import { FfmpegLocator, OVERLOAD_POLICIES, redactUrl, type OverloadPolicy } from '../runtime/video';
import type { Node, NodeDef, NodeMessage, Red } from './lib/red';
import { nodeDefaults } from './lib/node-defaults';
import { numberOption } from './lib/config';
import { FaceNode } from './lib/face-node';
import { asFaceError } from './lib/messages';
import { errorStatus, plural, statusText } from './lib/status';
import { StreamHealth } from './lib/stream-failures';

interface Def extends NodeDef {
  config?: string;
  source?: string;
  maxInFlight?: number | string;
  overload?: string;
  maxQueue?: number | string;
  everyNth?: number | string;
}

interface Running {
  source: FrameTokenSource;
  /** Frames sent and still in the store; the next frame waits while `maxInFlight` are. */
  gate: InFlightLimit;
  done: Promise<void>;
  /** Set on close: no end message then (the flow is going away). */
  closing?: boolean;
}

/**
 * A video file, stream (rtsp/http/udp/…) or camera → one face token per frame on output 1
 * (`msg.parts` = { id, index, count on the last frame, type: 'frames' }), then an end message
 * on output 2. Started by any message (msg.payload string = source), stopped by
 * `msg.command: 'stop'`. Backpressure: the next frame waits (woken by the store's release
 * notifications) while `maxInFlight` sent frames are still in the store, and the decoder waits
 * for store room. A live source that drops shows "reconnecting (attempt n)…" and warns.
 */
export = function (RED: Red): void {
  function FaceVideoIn(this: Node, nodeDef: NodeDef): void {
    const face = new FaceNode<Def>(RED, this, nodeDef, { stage: 'video-in' });
    const { node, options: def, config } = face;
    const locator = new FfmpegLocator({ logger: (level, message) => (level === 'info' ? node.log(message) : node.warn(message)) });
    const maxInFlight = Math.max(1, Math.floor(numberOption(def.maxInFlight) ?? Number(nodeDefaults('face-video-in').maxInFlight)));
    let current: Running | undefined;

    face.onInput((msg, _send, done) => {
      if (msg.command === 'stop') {
        const stopping = current;
        if (!stopping) {
          done();
          return;
        }
        void stopRunning(stopping).then(() => done(), done);
        return;
      }
      if (current) {
        node.warn('face-video-in is already running; send msg.command "stop" first');
        done();
        return;
      }
      const fromMessage = typeof msg.payload === 'string' && msg.payload.trim() !== '';
      const input = fromMessage ? (msg.payload as string).trim() : (def.source ?? '').trim();
      if (!input) throw missingSource();
      let reconnects = 0;
      const runtime = config!.runtime;
      // Frames sent and still in the store: the source waits on this gate (woken by release
      // notifications); the node reads it for its status and frees what is out on a redeploy.
      const gate = new InFlightLimit(runtime.store, maxInFlight);
      let source: FrameTokenSource;
      try {
        source = new FrameTokenSource({
          runtime,
          locator,
          input,
          window: gate,
          overload: {
            ...(def.overload && (OVERLOAD_POLICIES as readonly string[]).includes(def.overload) ? { policy: def.overload as OverloadPolicy } : {}),
            ...(numberOption(def.maxQueue) !== undefined ? { maxQueue: Math.max(1, Math.floor(numberOption(def.maxQueue)!)) } : {}),
            ...(numberOption(def.everyNth) !== undefined ? { everyNth: Math.max(1, Math.floor(numberOption(def.everyNth)!)) } : {}),
          },
          // A source sent in a message is untrusted: an allowed URL whose host is checked (and
          // connected to at the checked address; HTTP requests through the runtime's guard), or a
          // file in the allowed folders. Checked when the decoder opens it.
          ...(fromMessage ? { pin: (i: string) => runtime.paths.source(i, 'msg.payload'), network: runtime.network } : {}),
          onReconnect: (attempt, delayMs, reason) => {
            reconnects++;
            // Before the first frame the source is not up yet (a camera still booting): said so.
            const waiting = source.frames === 0;
            node.status({ fill: 'yellow', shape: 'ring', text: waiting ? `source not up (attempt ${attempt})…` : `reconnecting (attempt ${attempt})…` });
            node.warn(`video source ${redactUrl(input)} ${waiting ? 'is not up' : 'lost'} (${redactUrl(reason).replace(/\s*\n\s*/g, ' · ')}); reconnect attempt ${attempt} in ${delayMs} ms`);
          },
          // A live source ahead of the flow stretches its privacy scan (journalled as `cadence` on the frame).
          onNotice: (_level, message) => node.log(message),
        });
      } catch (error) {
        gate.close(); // a refused source: the gate stops listening to the store
        throw error;
      }
      const running: Running = { source, gate, done: Promise.resolve() };
      current = running;
      running.done = pump(running, input, msg, () => reconnects, fromMessage).finally(() => {
        running.gate.close();
        if (current === running) current = undefined;
      });
      done();
    });

    /** Sends every frame token, then the end message; errors go to the Catch node with the start msg. */
    async function pump(running: Running, input: string, startMsg: NodeMessage, reconnecting: () => number, fromMessage: boolean): Promise<void> {
      const { source, gate } = running;
      const id = randomUUID();
      const started = performance.now();
      let lastStatus = 0;
      let sent = 0;
      let shownReconnect = 0;
      let lastIndex = -1;
      let fps = 0;
      // Frames of this stream that fail further down (reported by the nodes they pass) turn the
      // status yellow, or red when they all fail, instead of a green count of frames sent.
      const health = new StreamHealth();
      let statusTimer: NodeJS.Timeout | undefined;
      const showProgress = (again = false): void => {
        const state = health.state(sent, gate.count);
        const failedPart = health.failed > 0 && `${health.failed} failed`;
        if (state === 'failing') node.status({ fill: 'red', shape: 'dot', text: statusText([`failing: ${health.lastCode}`, failedPart]) });
        else {
          const dropped = source.dropped > 0 && `${source.dropped} dropped`;
          node.status({ fill: state === 'ok' ? 'green' : 'yellow', shape: 'dot', text: statusText([again && 'reconnected', plural(sent, 'frame'), `${fps.toFixed(1)} fps`, failedPart, dropped]) });
        }
      };
      const unwatch = config!.streams.watch(id, (failure) => {
        health.failure(failure);
        // A burst of failures updates the status at most every 250 ms.
        statusTimer ??= setTimeout(() => {
          statusTimer = undefined;
          if (current === running && !running.closing) showProgress();
        }, 250);
      });
      node.status({ fill: 'yellow', shape: 'ring', text: 'opening…' });
      try {
        await config!.ready;
        // A dialog source is trusted; a message source is checked when the decoder opens it (pin).
        if (!fromMessage) config!.runtime.paths.trustSource(input);
        let trusted = !fromMessage;
        for await (const item of source.tokens()) {
          if (!trusted) {
            // Opened, so it passed the check: face-video-out may read it again (its audio).
            config!.runtime.paths.trustSource(input);
            trusted = true;
          }
          const parts: Record<string, unknown> = { id, index: item.index, type: 'frames' };
          if (item.last) parts.count = item.index + 1;
          // A live source's frame interval is the downgrade policy's frame budget (unless one is set).
          if (item.index === 0 && item.stream.fps > 0) config!.runtime.downgrade?.setSourceInterval(1000 / item.stream.fps);
          const video = {
            source: input,
            fps: item.stream.fps,
            width: item.stream.width,
            height: item.stream.height,
            ...(item.stream.hasAudio ? { hasAudio: true } : {}),
            ...(item.droppedBefore > 0 ? { droppedBefore: item.droppedBefore } : {}),
          };
          lastIndex = item.index;
          // Separate send() calls per output keep each message uncloned.
          node.send([{ payload: item.token, parts, video, topic: startMsg.topic }, null]);
          sent++;
          const now = performance.now();
          const reconnects = reconnecting();
          if (now - lastStatus > 500 || reconnects !== shownReconnect) {
            lastStatus = now;
            fps = sent / ((now - started) / 1000);
            const again = reconnects !== shownReconnect;
            shownReconnect = reconnects;
            showProgress(again);
          }
          // The source waits for room in `gate` before it reads the next frame.
        }
        const sourceFps = source.info?.fps ?? 0;
        const durationSec = sourceFps > 0 ? sent / sourceFps : 0;
        const dropped = source.dropped;
        const state = health.state(sent, gate.count);
        node.status({
          fill: state === 'failing' ? 'red' : 'grey',
          shape: 'dot',
          text: statusText(['ended', plural(sent, 'frame'), health.failed > 0 && `${health.failed} failed`, dropped > 0 && `${dropped} dropped`]),
        });
        if (running.closing) return;
        // `sent`, not the source's decoded count: a frame read ahead when stopped is never sent.
        // parts.count is the number of indexes (sent + dropped before the last one sent), which
        // face-video-out waits for.
        const overload = source.policy.policy === 'block' ? {} : { policy: source.policy.policy, queuePeak: source.queuePeak };
        node.send([
          null,
          {
            payload: { frames: sent, dropped, ...overload, durationSec, source: redactUrl(input), reconnects: reconnecting() },
            parts: { id, count: lastIndex + 1, type: 'frames' },
            complete: true,
            topic: startMsg.topic,
          },
        ]);
      } catch (err) {
        const error = asFaceError(err, 'video-in');
        node.status(errorStatus(error));
        node.error(error, { ...startMsg, error: { code: error.code, message: error.message } });
      } finally {
        unwatch();
        if (statusTimer) clearTimeout(statusTimer);
      }
    }

    /**
     * Stops ffmpeg and any wait for room; resolves once the end message (if any) went out.
     * `freeSent` (close on redeploy) also frees the frames still out in the flow: nobody will
     * write them any more, and they would hold store room until their TTL.
     */
    async function stopRunning(running: Running, freeSent = false): Promise<void> {
      if (freeSent) {
        running.closing = true;
        running.gate.freeOutstanding();
      } else running.gate.close();
      await running.source.stop();
      await running.done;
    }

    face.onClose(() => (current ? stopRunning(current, true) : undefined), { clearStatus: true });
  }

  function missingSource(): Error {
    return new FaceError('E_UNSUPPORTED_SOURCE', 'face-video-in has no source: set one in the node or send it as msg.payload (a path, rtsp:// URL or /dev/video0)');
  }

  RED.nodes.registerType('face-video-in', FaceVideoIn);
};
