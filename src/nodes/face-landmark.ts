import type { Red } from './lib/red';
import { registerStageNode, type StageNodeDef } from './lib/stage-node';

/** 68 landmarks per face, and the 5 alignment points derived from them. */
export = function (RED: Red): void {
  registerStageNode<StageNodeDef>(RED, { type: 'face-landmark', stage: 'landmark', parameters: () => ({}) });
};
