import { FaceError } from '../runtime';
import type { Node, NodeDef, Red } from './lib/red';
import { flagOption, numberOption } from './lib/config';
import { statusText } from './lib/status';
import { transferNode, wireTransferNode } from './lib/token-transfer';

interface Def extends NodeDef {
  config?: string;
  format?: 'png' | 'jpeg';
  quality?: number | string;
  sealed?: boolean | string;
  /** Free the token's pictures once packed (saved by 0.1.0 as `release`). */
  releaseFrames?: boolean | string;
  queueSize?: number | string;
}

/** Token → one Buffer with its frames (sealed with the config node's key) for another process. */
export = function (RED: Red): void {
  function FacePack(this: Node, nodeDef: NodeDef): void {
    const face = transferNode<Def>(RED, this, nodeDef, 'pack');
    const { node, options: def, config } = face;
    const format = def.format === 'jpeg' ? 'jpeg' : 'png';
    const quality = numberOption(def.quality) ?? 90;
    const sealed = flagOption(def.sealed, true);
    const release = flagOption(def.releaseFrames, true);
    if (config && sealed && !config.tokenKey) {
      node.status({ fill: 'red', shape: 'ring', text: config.tokenKeyError ? 'token key refused' : 'no token key' });
    }
    wireTransferNode(
      face,
      async (cfg, msg) => {
        if (sealed && !cfg.tokenKey) {
          throw new FaceError(
            'E_BAD_PARAMETER',
            cfg.tokenKeyError
              ? `the config node's token key was refused: ${cfg.tokenKeyError}`
              : 'sealed packing needs a key: set "Token key" in the facefusion-config node (or FACEFUSION_TOKEN_KEY), or untick "Seal"',
          );
        }
        const runtime = cfg.runtime;
        const token = runtime.acceptToken(msg.payload);
        const started = performance.now();
        const packet = await runtime.pack(token, { key: cfg.tokenKey, sealed, format, quality });
        if (release) runtime.release(token);
        msg.payload = packet;
        msg.request_id = token.request_id;
        return statusText([`${Math.round(packet.length / 1024)} kB`, format, sealed && 'sealed', `${Math.round(performance.now() - started)} ms`]);
      },
      numberOption(def.queueSize) ?? 10,
    );
  }
  RED.nodes.registerType('face-pack', FacePack);
};
