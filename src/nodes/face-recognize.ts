import { FaceError, type FaceToken, type Runtime } from '../runtime';
import { faceThumbnail, recognizeToken, VisitTracker, withEmbeddings, type VisitEvent } from '../runtime/library';
import { encodeThumbnail } from '../runtime/vision/thumbnail';
import { libraryOf, openLibrary, showLibraryStatus, type LibraryNode } from './lib/library-types';
import { messageOf } from './lib/messages';
import { nodeDefaults } from './lib/node-defaults';
import type { Node, NodeDef, NodeMessage, Red } from './lib/red';
import { flagOption, numberOption } from './lib/config';
import { FaceNode } from './lib/face-node';
import { releaseDroppedFrame } from './lib/frame-release';

interface Def extends NodeDef {
  config?: string;
  library?: string;
  threshold?: number | string;
  /** Name of the camera in events; blank = the source's id. */
  camera?: string;
  /** Picture sent with an event: off, the face, or the whole frame. */
  snapshot?: 'off' | 'face' | 'frame';
  /** Events go out with msg.topic `<topic>/<camera>/person`. */
  topic?: string;
  holdFrames?: number | string;
  unknownAfter?: number | string;
  queueSize?: number | string;
  dropWhenBusy?: boolean | string;
  /** Free the token's pictures once recognised (a camera flow whose token goes no further). */
  releaseFrames?: boolean | string;
}

/** Longer side of an event's snapshot, px: the face at 240, the frame at 640. */
const SNAPSHOT_SIDE = { face: 240, frame: 640 } as const;

/**
 * "Who is there": every face of the token gets `identity` { name | null, similarity, known }
 * from the face library (journalled). Output 2 carries one event per person per visit for
 * automations (MQTT, Home Assistant): faces are followed across a source's frames by the face
 * tracker, so a person standing at the door is one event, not one per frame.
 */
export = function (RED: Red): void {
  function FaceRecognize(this: Node, nodeDef: NodeDef): void {
    let lastResult: string[] = [];
    const face = new FaceNode<Def>(RED, this, nodeDef, {
      stage: 'recognize',
      onError: () => {
        lastResult = [];
      },
    });
    const { node, options: def, config } = face;
    const defaults = nodeDefaults('face-recognize');
    const libraryNode = config ? libraryOf(RED, node, def.library) : undefined;
    const threshold = numberOption(def.threshold) ?? Number(defaults.threshold);
    const snapshot = def.snapshot === 'face' || def.snapshot === 'frame' ? def.snapshot : 'off';
    const topic = String(def.topic ?? defaults.topic).replace(/\/+$/, '') || 'facefusion';
    const visits = new VisitTracker({ holdFrames: numberOption(def.holdFrames) ?? Number(defaults.holdFrames), unknownAfter: numberOption(def.unknownAfter) ?? Number(defaults.unknownAfter) });
    let size: number | undefined;
    const showIdle = (): void => {
      if (libraryNode) showLibraryStatus(node, libraryNode, size, lastResult);
    };
    const unwatch = libraryNode?.watch((n) => {
      size = n;
      showIdle();
    });
    const dropWhenBusy = flagOption(def.dropWhenBusy, false);
    const release = flagOption(def.releaseFrames, false);

    face.onInput(
      async (msg, send, done) => {
        await config!.ready;
        const runtime = config!.runtime;
        const library = openLibrary(libraryNode, 'face recognize');
        const embedded = await withEmbeddings(runtime, runtime.acceptToken(msg.payload));
        if (embedded.state === 'failed' && embedded.error?.code !== 'E_NO_FACE') {
          throw new FaceError(embedded.error!.code as FaceError['code'], embedded.error!.message, { stage: 'recognize' });
        }
        const token = await recognizeToken(library, embedded, threshold);
        msg.payload = token;
        msg.people = [...new Set(token.faces.filter((f) => f.identity?.known).map((f) => f.identity!.name as string))];
        const events = visits.observe(token.job_id ?? node.id, token.target.index, token.faces);
        const out = await Promise.all(events.map((e) => eventMessage(runtime, libraryNode!, token, e)));
        // Snapshots are taken: a camera flow's token may give its pictures back now.
        if (release) runtime.release(token);
        if (face.closed) return done();
        lastResult = identitiesText(token.faces);
        showIdle();
        send([msg, null]);
        for (const m of out) send([null, m]);
        done();
      },
      {
        capacity: dropWhenBusy ? 0 : (numberOption(def.queueSize) ?? Number(defaults.queueSize)),
        onBusy: (msg) => releaseDroppedFrame(config!.runtime, msg.payload),
      },
    );

    /** The event message of a visit: Home-Assistant-friendly JSON payload, the snapshot beside it. */
    async function eventMessage(runtime: Runtime, lib: LibraryNode, token: FaceToken, e: VisitEvent): Promise<NodeMessage> {
      const camera = def.camera || token.job_id || 'camera';
      const face = token.faces[e.face];
      const payload = {
        event: 'person',
        camera,
        name: e.name,
        known: e.known,
        similarity: e.similarity,
        visit: e.visit,
        since: e.since,
        at: new Date().toISOString(),
        box: e.bbox.map((v) => Math.round(v)),
        ...(token.target.index !== undefined ? { frame: token.target.index } : {}),
      };
      const msg: NodeMessage = { topic: `${topic}/${slug(camera)}/person`, payload };
      try {
        if (snapshot === 'face') msg.snapshot = await faceThumbnail(runtime, token, face, SNAPSHOT_SIDE.face);
        else if (snapshot === 'frame') msg.snapshot = (await encodeThumbnail(runtime.store.pixels(token.target.frame), SNAPSHOT_SIDE.frame, 80)).data;
        // Unknown faces are kept for naming later only when the library collects them (off by default).
        if (!e.known && lib.library?.unknownPolicy.collect && face.embedding) {
          lib.library.collectUnknown(
            { embedding: face.embedding, ...(face.embedding_model ? { embedding_model: face.embedding_model } : {}) },
            { threshold, thumbnail: await faceThumbnail(runtime, token, face), camera },
          );
        }
      } catch (err) {
        node.warn(`event of ${e.visit}: ${messageOf(err)}`);
      }
      return msg;
    }

    face.onClose(() => {
      unwatch?.();
      visits.clear();
    });
  }
  RED.nodes.registerType('face-recognize', FaceRecognize);
};

/**
 * Who was recognised, for the status, the most detailed first (showLibraryStatus shows the first
 * that fits beside the library's size): names with similarities, names, then counts.
 */
function identitiesText(faces: FaceToken['faces']): string[] {
  const ids = faces.filter((f) => f.identity).map((f) => f.identity!);
  if (!faces.length) return ['no face'];
  const known = ids.filter((i) => i.known);
  const unknown = ids.length - known.length;
  const rest = unknown ? [`${unknown} unknown`] : [];
  return [
    [...known.map((i) => `${i.name} ${i.similarity.toFixed(2)}`), ...rest].join(', '),
    [...known.map((i) => i.name), ...rest].join(', '),
    [known.length && `${known.length} known`, ...rest].filter(Boolean).join(', '),
  ].filter(Boolean);
}

/** A camera name as one MQTT topic level (no '/', '+', '#', spaces). */
function slug(name: string): string {
  return (
    name
      .trim()
      .toLowerCase()
      .replace(/[^a-z0-9_-]+/g, '_')
      .replace(/^_+|_+$/g, '') || 'camera'
  );
}
