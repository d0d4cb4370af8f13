import type { Node, NodeDef, NodeMessage, Red } from './lib/red';
import { nodeDefaults, withDefaults } from './lib/node-defaults';
import { configOf, missingConfig, numberOption } from './lib/config';
import { asFaceError, messageOf } from './lib/messages';
import { errorStatus, statusText } from './lib/status';
import { EditorThumbnail, thumbnailSize } from './lib/thumbnail';

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
    RED.nodes.createNode(this, nodeDef);
    const node = this;
    const def = withDefaults('face-image', nodeDef as Def);
    const config = configOf(RED, node, def.config);
    const format = def.format || (nodeDefaults('face-image').format as 'jpeg');
    const quality = numberOption(def.quality) ?? Number(nodeDefaults('face-image').quality);
    const release = def.releaseFrames !== false;
    const provenance = def.provenance !== false;
    const thumbSide = thumbnailSize(def.thumbnail);
    const thumbnail = thumbSide
      ? new EditorThumbnail((topic, data, retain) => RED.comms.publish(topic, data, retain), node.id, thumbSide, undefined, (err) => node.warn(`thumbnail: ${messageOf(err)}`))
      : undefined;

    node.on('input', (msg: NodeMessage, send, done) => {
      if (!config) {
        done(missingConfig(nodeDef.type));
        return;
      }
      void (async () => {
        try {
          const runtime = config.runtime;
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
        } catch (err) {
          const error = asFaceError(err, 'image');
          node.status(errorStatus(error));
          config.streams.report(msg, error);
          done(error);
        }
      })();
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      thumbnail?.close();
      done();
    });
  }
  RED.nodes.registerType('face-image', FaceImage);
};
