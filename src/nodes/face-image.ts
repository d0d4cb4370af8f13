import type { Node, NodeDef, Red } from './lib/red';
import { nodeDefaults } from './lib/node-defaults';
import { numberOption } from './lib/config';
import { FaceNode } from './lib/face-node';
import { statusText } from './lib/status';
import { nodeThumbnail } from './lib/thumbnail';

interface Def extends NodeDef {
  config?: string;
  format?: 'jpeg' | 'png' | 'webp';
  quality?: string;
  /** Free the token's pictures once encoded (saved by 0.1.0 as `release`, see resources/node-migrations.js). */
  releaseFrames?: boolean;
  /** Provenance marks (XMP) on swapped/enhanced pictures; default on. */
  provenance?: boolean;
  /** Longer side in px of a thumbnail shown under the node in the editor; '' = none. */
  thumbnail?: number | string;
}

/** Token → encoded image Buffer in msg.payload (the token moves to msg.token). */
export = function (RED: Red): void {
  function FaceImage(this: Node, nodeDef: NodeDef): void {
    const face = new FaceNode<Def>(RED, this, nodeDef, { stage: 'image', report: true });
    const { node, options: def } = face;
    const format = def.format || (nodeDefaults('face-image').format as 'jpeg');
    const quality = numberOption(def.quality) ?? Number(nodeDefaults('face-image').quality);
    const release = def.releaseFrames !== false;
    const provenance = def.provenance !== false;
    const thumbnail = nodeThumbnail(RED, node, def.thumbnail);

    face.onInput(async (msg, send, done) => {
      const runtime = face.config!.runtime;
      const token = runtime.acceptToken(msg.payload);
      const started = performance.now();
      const image = await runtime.encode(token, { format, quality, provenance });
      thumbnail?.offer(runtime.store.tryPixels(token.target.frame));
      if (release) runtime.release(token);
      msg.token = token;
      msg.payload = image;
      msg.contentType = `image/${format}`;
      node.status({ fill: 'green', shape: 'dot', text: statusText([`${format} ${Math.round(image.length / 1024)} kB`, `${Math.round(performance.now() - started)} ms`]) });
      send(msg);
      done();
    });

    face.onClose(() => thumbnail?.close());
  }
  RED.nodes.registerType('face-image', FaceImage);
};
