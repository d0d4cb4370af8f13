import { FaceError, type Runtime } from '../runtime';
import { matchFaces, type Identity } from '../runtime/faces/match';
import type { Node, NodeDef, NodeMessage, Red } from './lib/red';
import { nodeDefaults } from './lib/node-defaults';
import { numberOption } from './lib/config';
import { FaceNode } from './lib/face-node';
import { asFaceError } from './lib/messages';
import { errorStatus } from './lib/status';

interface Def extends NodeDef {
  config?: string;
  reference?: string;
  threshold?: string;
}

/**
 * "Who is this": compares every face's embedding with a reference identity (msg.reference as
 * an embedding array or a `{ embedding, embedding_model }` object such as a face or a token's
 * source, or the reference picture set in the dialog) and reports the matches. Embeddings of
 * two different recognizer models are refused, not compared.
 */
export = function (RED: Red): void {
  function FaceMatch(this: Node, nodeDef: NodeDef): void {
    let shownResult = false;
    const face = new FaceNode<Def>(RED, this, nodeDef, {
      stage: 'match',
      onError: () => {
        shownResult = true;
      },
    });
    const { node, options: def, config } = face;
    const threshold = numberOption(def.threshold) ?? Number(nodeDefaults('face-match').threshold);
    let referenceFromFile: Promise<Identity> | undefined;

    // Say at deploy what the node will compare with: the reference picture is analysed now (a
    // missing or faceless file shows red at once, not on the first message); without one the
    // status says each message must bring msg.reference.
    if (config && def.reference) {
      node.status({ fill: 'yellow', shape: 'ring', text: 'analysing the reference…' });
      config.ready
        .then(() => referenceFromFileOf(config.runtime))
        .then(
          () => {
            if (!face.closed && !shownResult) node.status({ fill: 'green', shape: 'ring', text: 'reference ready' });
          },
          (err: unknown) => {
            if (face.closed || shownResult) return;
            const error = asFaceError(err, 'match');
            node.status(errorStatus(error));
            node.warn(`${error.code}: ${error.message}`);
          },
        );
    } else if (config) {
      node.status({ fill: 'yellow', shape: 'ring', text: 'no reference' }); // the help says: set Reference or send msg.reference
    }

    face.onInput(async (msg, send, done) => {
      const runtime = config!.runtime;
      const token = runtime.acceptToken(msg.payload);
      const reference = await referenceFor(runtime, msg);
      const match = matchFaces(token.faces, reference, threshold);
      msg.match = match;
      msg.matched = match.some((m) => m.matched);
      const best = match.reduce((a, b) => (b.similarity > a.similarity ? b : a), { index: -1, similarity: -1, matched: false });
      shownResult = true;
      node.status({
        fill: msg.matched ? 'green' : 'grey',
        shape: 'dot',
        text: match.length ? `${msg.matched ? 'match' : 'no match'} · best ${best.similarity.toFixed(2)} (face ${best.index})` : 'no face',
      });
      send(msg);
      done();
    });

    async function referenceFor(runtime: Runtime, msg: NodeMessage): Promise<Identity> {
      const given = identityOf(msg.reference);
      if (given) return given;
      if (!def.reference) throw new FaceError('E_NO_SOURCE', 'no reference: set msg.reference to an embedding array (or { embedding, embedding_model }) or pick a reference picture in the node');
      return referenceFromFileOf(runtime);
    }

    /** The reference picture is analysed once and kept for the node's lifetime (again after a failure). */
    function referenceFromFileOf(runtime: Runtime): Promise<Identity> {
      if (!referenceFromFile) {
        const pending = embedLargestFace(runtime, def.reference!);
        referenceFromFile = pending;
        pending.catch(() => {
          if (referenceFromFile === pending) referenceFromFile = undefined;
        });
      }
      return referenceFromFile;
    }
  }
  RED.nodes.registerType('face-match', FaceMatch);
};

const isNumbers = (v: unknown): v is number[] => Array.isArray(v) && v.every((x) => typeof x === 'number');

/** msg.reference as an identity: a bare embedding array, or an object with `embedding` (and `embedding_model` when known). */
function identityOf(value: unknown): Identity | undefined {
  if (isNumbers(value)) return { embedding: value };
  if (typeof value !== 'object' || value === null) return undefined;
  const { embedding, embedding_model: model } = value as { embedding?: unknown; embedding_model?: unknown };
  if (!isNumbers(embedding)) return undefined;
  return typeof model === 'string' && model !== '' ? { embedding, embedding_model: model } : { embedding };
}

async function embedLargestFace(runtime: Runtime, path: string): Promise<Identity> {
  const token = await runtime.run(await runtime.createToken({ target: path, operations: ['detect', 'landmark', 'embed'], parameters: { face_selector: 'one' } }));
  runtime.release(token);
  if (token.state === 'failed') throw new FaceError(token.error!.code as FaceError['code'], `reference picture ${path}: ${token.error!.message}`);
  const face = token.faces[0];
  return face.embedding_model ? { embedding: face.embedding!, embedding_model: face.embedding_model } : { embedding: face.embedding! };
}
