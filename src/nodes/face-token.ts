import { FaceError, STAGES, isFaceToken, type FaceToken as FaceTokenType, type Parameters, type Stage } from '../runtime';
import { withParameters } from '../runtime/token';
import { isSampleRef } from '../runtime/samples';
import type { Node, NodeDef, Red } from './lib/red';
import { numberOption, setOptions } from './lib/config';
import { FaceNode } from './lib/face-node';
import { RuntimeStatusUser, statusText } from './lib/status';

interface Def extends NodeDef {
  config?: string;
  source?: string;
  blendRatio?: string;
  faceSelector?: string;
  scoreThreshold?: string;
  maxFaces?: string;
  faceSize?: string;
  /** Messages waiting while one image is decoded; beyond it new messages are dropped (default 10). */
  queueSize?: number | string;
}

/**
 * Starts a request: an image Buffer in msg.payload becomes a face token (frames stored in the
 * config node's frame store); a token in msg.payload is checked and passed on.
 */
export = function (RED: Red): void {
  function FaceToken(this: Node, nodeDef: NodeDef): void {
    // A failure is a result of the node's own: a late "ready" of the runtime must not hide it.
    const user = new RuntimeStatusUser(this);
    const face = new FaceNode<Def>(RED, this, nodeDef, { stage: 'token', onError: () => user.resultShown() });
    const { node, options: def, config } = face;
    // The token's `operations` list drives runtime.run() and jobs only; in a flow the wires are
    // the pipeline (docs/ARCHITECTURE.md, "A face token's life"), so the dialog no longer
    // offers it and a value saved by an older version is ignored. msg.operations still sets it
    // for code that runs the token.
    const operations = parseOperations(undefined);
    const dialogParameters: Parameters = setOptions({
      blend_ratio: numberOption(def.blendRatio),
      face_selector: def.faceSelector,
      score_threshold: numberOption(def.scoreThreshold),
      max_faces: numberOption(def.maxFaces),
      face_size: numberOption(def.faceSize),
    });
    config?.register(user);

    face.onInput(
      async (msg, send, done) => {
        const runtime = config!.runtime;
        const msgParameters = (msg.parameters && typeof msg.parameters === 'object' ? msg.parameters : {}) as Parameters;
        if (isFaceToken(msg.payload) || (msg.payload && typeof msg.payload === 'object' && !Buffer.isBuffer(msg.payload))) {
          msg.payload = withParameters(runtime.acceptToken(msg.payload), msgParameters);
        } else {
          // A `sample:<name>` string picks a picture shipped with the package (the examples use it).
          if (!Buffer.isBuffer(msg.payload) && !isSampleRef(msg.payload)) {
            throw new FaceError(
              'E_BAD_IMAGE',
              'msg.payload must be an image Buffer (e.g. from a file-in node set to "a single Buffer object"), a sample name like "sample:obama.jpg", or a face token',
            );
          }
          // A path in the message is untrusted (it may come from http or mqtt): confined to the allowed folders.
          const source = Buffer.isBuffer(msg.source) ? msg.source : typeof msg.source === 'string' && msg.source ? await runtime.paths.readable(msg.source, 'msg.source') : def.source || undefined;
          const msgOperations = Array.isArray(msg.operations) ? parseOperations(msg.operations as string[]) : undefined;
          msg.payload = await runtime.createToken({
            target: msg.payload as Buffer | string,
            source,
            operations: msgOperations ?? operations,
            parameters: { ...dialogParameters, ...msgParameters },
          });
        }
        const token = msg.payload as FaceTokenType;
        user.resultShown();
        // What the token holds (its picture's size, whether a source face came with it); not its
        // `operations`, which in a flow are the wired nodes, not a count known here.
        const size = token.target.width && token.target.height ? token.target : runtime.store.tryGet(token.target.frame);
        node.status({ fill: 'green', shape: 'dot', text: statusText([token.source ? 'token + source' : 'token', size && `${size.width}×${size.height}`]) });
        send(msg);
        done();
      },
      {
        // One image decoded at a time, a bounded backlog (as the stage nodes): a burst of large
        // images waits or is dropped instead of decoding all at once.
        capacity: numberOption(def.queueSize) ?? 10,
        showDepth: true,
        saysQueueFull: true,
        onBusy: () => user.resultShown(),
      },
    );

    face.onClose(() => config?.deregister(user));
  }
  RED.nodes.registerType('face-token', FaceToken);
};

function parseOperations(value: string[] | string | undefined): Stage[] {
  const list = Array.isArray(value) ? value : typeof value === 'string' && value ? value.split(',') : ['detect', 'landmark', 'embed', 'swap'];
  const unknown = list.filter((s) => !(STAGES as readonly string[]).includes(s.trim()));
  if (unknown.length) throw new FaceError('E_BAD_PARAMETER', `unknown operation(s) ${unknown.join(', ')} (known: ${STAGES.join(', ')})`);
  return STAGES.filter((s) => list.map((x) => x.trim()).includes(s));
}
