import type { Red } from './lib/red';
import { registerStageNode, type StageNodeDef } from './lib/stage-node';

/** 512-d identity embedding of every face (and of the source face). */
export = function (RED: Red): void {
  registerStageNode<StageNodeDef>(RED, { type: 'face-embed', stage: 'embed', parameters: () => ({}) });
};
