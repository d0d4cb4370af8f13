import { FaceError, cosineSimilarity, type Runtime } from '../runtime';
import type { Node, NodeDef, NodeMessage, Red } from './lib/red';
import { configOf, missingConfig, numberOption } from './lib/stage-node';
import { asFaceError, shorten } from './lib/messages';

interface Def extends NodeDef {
  config?: string;
  reference?: string;
  threshold?: string;
}

/**
 * "Who is this": compares every face's embedding with a reference identity (msg.reference as
 * an embedding array, or the reference picture set in the dialog) and reports the matches.
 */
export = function (RED: Red): void {
  function FaceMatch(this: Node, nodeDef: NodeDef): void {
    RED.nodes.createNode(this, nodeDef);
    const node = this;
    const def = nodeDef as Def;
    const config = configOf(RED, node, def.config);
    const threshold = numberOption(def.threshold) ?? 0.5;
    let referenceFromFile: Promise<number[]> | undefined;

    node.on('input', (msg: NodeMessage, send, done) => {
      if (!config) {
        done(missingConfig(nodeDef.type));
        return;
      }
      void (async () => {
        try {
          const runtime = config.runtime;
          const token = runtime.acceptToken(msg.payload);
          const reference = await referenceFor(runtime, msg);
          if (token.faces.some((f) => !f.embedding)) throw new FaceError('E_BAD_PARAMETER', 'faces have no embeddings: put a face-embed node before face-match');
          const match = token.faces.map((face, index) => {
            const similarity = Math.round(cosineSimilarity(face.embedding!, reference) * 1e4) / 1e4;
            return { index, similarity, matched: similarity >= threshold };
          });
          msg.match = match;
          msg.matched = match.some((m) => m.matched);
          const best = match.reduce((a, b) => (b.similarity > a.similarity ? b : a), { index: -1, similarity: -1, matched: false });
          node.status({ fill: msg.matched ? 'green' : 'grey', shape: 'dot', text: match.length ? `${msg.matched ? 'match' : 'no match'} · best ${best.similarity.toFixed(2)}` : 'no face' });
          send(msg);
          done();
        } catch (err) {
          const error = asFaceError(err, 'match');
          node.status({ fill: 'red', shape: 'dot', text: shorten(`${error.code}: ${error.message}`) });
          done(error);
        }
      })();
    });

    async function referenceFor(runtime: Runtime, msg: NodeMessage): Promise<number[]> {
      if (Array.isArray(msg.reference) && msg.reference.every((v) => typeof v === 'number')) return msg.reference as number[];
      if (!def.reference) throw new FaceError('E_NO_SOURCE', 'no reference: set msg.reference to an embedding array or pick a reference picture in the node');
      // The reference picture is analysed once and kept for the node's lifetime.
      referenceFromFile ??= embedLargestFace(runtime, def.reference);
      referenceFromFile.catch(() => (referenceFromFile = undefined));
      return referenceFromFile;
    }
  }
  RED.nodes.registerType('face-match', FaceMatch);
};

async function embedLargestFace(runtime: Runtime, path: string): Promise<number[]> {
  const token = await runtime.run(await runtime.createToken({ target: path, operations: ['detect', 'landmark', 'embed'], parameters: { face_selector: 'one' } }));
  runtime.release(token);
  if (token.state === 'failed') throw new FaceError(token.error!.code as FaceError['code'], `reference picture ${path}: ${token.error!.message}`);
  return token.faces[0].embedding!;
}
