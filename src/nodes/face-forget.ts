import { errorStatus } from './lib/status';
import { FaceError } from '../runtime';
import { libraryOf, openLibrary, showLibraryStatus } from './lib/library-types';
import { asFaceError } from './lib/messages';
import { withDefaults } from './lib/node-defaults';
import type { Node, NodeDef, NodeMessage, Red } from './lib/red';

interface Def extends NodeDef {
  library?: string;
}

/**
 * Erases the person named in `msg.name` from a face library: their row, every vector and
 * thumbnail, the unknown faces collected that were them, the recognizers' in-memory copies; the
 * database files are then compacted so no trace of the name or the vectors stays.
 */
export = function (RED: Red): void {
  function FaceForget(this: Node, nodeDef: NodeDef): void {
    RED.nodes.createNode(this, nodeDef);
    const node = this;
    const def = withDefaults('face-forget', nodeDef as Def);
    const libraryNode = libraryOf(RED, node, def.library);
    let lastResult = '';
    const unwatch = libraryNode?.watch((size) => showLibraryStatus(node, libraryNode, size, lastResult));

    node.on('input', (msg: NodeMessage, send, done) => {
      try {
        const library = openLibrary(libraryNode, 'face forget');
        if (typeof msg.name !== 'string' || !msg.name.trim()) throw new FaceError('E_BAD_PARAMETER', 'face forget needs the person\'s name in msg.name');
        const result = library.forget(msg.name);
        msg.payload = { name: result.name, pictures: result.embeddings, unknownFaces: result.unknowns, compacted: result.compaction.walTruncated };
        lastResult = `forgot ${result.name}`;
        libraryNode!.changed();
        send(msg);
        done();
      } catch (err) {
        const error = asFaceError(err, 'forget');
        node.status(errorStatus(error));
        done(error);
      }
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      unwatch?.();
      done();
    });
  }
  RED.nodes.registerType('face-forget', FaceForget);
};
