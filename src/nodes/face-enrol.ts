import { FaceError } from '../runtime';
import { enrolToken, withEmbeddings } from '../runtime/library';
import { libraryOf, openLibrary, showLibraryStatus } from './lib/library-types';
import { nodeDefaults } from './lib/node-defaults';
import type { Node, NodeDef, Red } from './lib/red';
import { numberOption } from './lib/config';
import { FaceNode } from './lib/face-node';
import { releaseDroppedFrame } from './lib/frame-release';

interface Def extends NodeDef {
  config?: string;
  library?: string;
  /** '' = the picture must show one face; 'largest' = the largest of several. */
  faceChoice?: '' | 'largest';
  queueSize?: number | string;
}

/**
 * Enrols the face of a token under `msg.name` in a face library: the token's only face (or the
 * one `msg.face` names, or the largest when the dialog says so); a picture with no face or with
 * several and no choice is refused. Faces without embeddings are embedded first.
 */
export = function (RED: Red): void {
  function FaceEnrol(this: Node, nodeDef: NodeDef): void {
    let lastResult: string[] = [];
    const face = new FaceNode<Def>(RED, this, nodeDef, {
      stage: 'enrol',
      onError: () => {
        lastResult = [];
      },
    });
    const { node, options: def, config } = face;
    const libraryNode = config ? libraryOf(RED, node, def.library) : undefined;
    const unwatch = libraryNode?.watch((size) => showLibraryStatus(node, libraryNode, size, lastResult));

    face.onInput(
      async (msg, send, done) => {
        const runtime = config!.runtime;
        await config!.ready;
        const library = openLibrary(libraryNode, 'face enrol');
        if (typeof msg.name !== 'string' || !msg.name.trim()) throw new FaceError('E_BAD_PARAMETER', "face enrol needs the person's name in msg.name");
        const token = await withEmbeddings(runtime, runtime.acceptToken(msg.payload));
        if (token.state === 'failed') throw new FaceError(token.error!.code as FaceError['code'], token.error!.message, { stage: 'enrol' });
        const which = msg.face === 'largest' || typeof msg.face === 'number' ? msg.face : def.faceChoice === 'largest' ? 'largest' : undefined;
        const result = await enrolToken(runtime, library, token, msg.name, { ...(which !== undefined ? { face: which } : {}), thumbnail: libraryNode!.thumbnails });
        msg.payload = token;
        msg.enrolled = { name: result.person.name, created: result.created, pictures: result.person.embeddings, face: result.face };
        lastResult = [`enrolled ${result.person.name}`, 'enrolled'];
        libraryNode!.changed();
        send(msg);
        done();
      },
      {
        capacity: numberOption(def.queueSize) ?? Number(nodeDefaults('face-enrol').queueSize),
        onBusy: (msg) => releaseDroppedFrame(config!.runtime, msg.payload),
      },
    );

    face.onClose(() => unwatch?.());
  }
  RED.nodes.registerType('face-enrol', FaceEnrol);
};
