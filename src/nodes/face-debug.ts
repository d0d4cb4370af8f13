import type { Red } from './lib/red';
import { registerStageNode, type StageNodeDef } from './lib/stage-node';

/** Draws boxes, scores and landmarks on a copy of the picture. */
export = function (RED: Red): void {
  registerStageNode<StageNodeDef>(RED, { type: 'face-debug', stage: 'debug', parameters: () => ({}), thumbnail: true });
};
