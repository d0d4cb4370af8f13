import { FaceError } from '../runtime';
import { FaceNode } from './lib/face-node';
import { libraryOf, openLibrary, showLibraryStatus } from './lib/library-types';
import type { Node, NodeDef, Red } from './lib/red';

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
    const face = new FaceNode<Def>(RED, this, nodeDef, { stage: 'forget', config: false });
    const { node, options: def } = face;
    const libraryNode = libraryOf(RED, node, def.library);
    let lastResult: string[] = [];
    const unwatch = libraryNode?.watch((size) => showLibraryStatus(node, libraryNode, size, lastResult));

    face.onInput((msg, send, done) => {
      const library = openLibrary(libraryNode, 'face forget');
      if (typeof msg.name !== 'string' || !msg.name.trim()) throw new FaceError('E_BAD_PARAMETER', "face forget needs the person's name in msg.name");
      const result = library.forget(msg.name);
      msg.payload = { name: result.name, pictures: result.embeddings, unknownFaces: result.unknowns, compacted: result.compaction.walTruncated };
      lastResult = [`forgot ${result.name}`, 'forgot'];
      libraryNode!.changed();
      send(msg);
      done();
    });

    face.onClose(() => unwatch?.());
  }
  RED.nodes.registerType('face-forget', FaceForget);
};
