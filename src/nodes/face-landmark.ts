import type { Red } from './lib/red';
import { registerStageNode, type StageNodeDef } from './lib/stage-node';
import { setOptions } from './lib/config';

interface Def extends StageNodeDef {
  model?: string;
}

/** 68 landmarks and the 5 alignment points of every face, by the embedded landmarker or a model (2dfan4, fan_68_5). */
export = function (RED: Red): void {
  registerStageNode<Def>(RED, { type: 'face-landmark', stage: 'landmark', parameters: (def) => setOptions({ face_landmarker_model: def.model?.trim() }) });
};
