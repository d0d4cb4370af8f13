import type { Red } from './lib/red';
import { numberOption, registerStageNode, setOptions, type StageNodeDef } from './lib/stage-node';

interface Def extends StageNodeDef {
  scoreThreshold?: string;
  maxFaces?: string;
}

/** Finds faces: boxes, scores (largest first). */
export = function (RED: Red): void {
  registerStageNode<Def>(RED, {
    type: 'face-detect',
    stage: 'detect',
    parameters: (def) => setOptions({ score_threshold: numberOption(def.scoreThreshold), max_faces: numberOption(def.maxFaces) }),
  });
};
