import type { Red } from './lib/red';
import { numberOption, registerStageNode, setOptions, type StageNodeDef } from './lib/stage-node';

interface Def extends StageNodeDef {
  mode?: string;
  strength?: string;
  margin?: string;
}

/** Privacy: blurs or pixelates every detected face. */
export = function (RED: Red): void {
  registerStageNode<Def>(RED, {
    type: 'face-blur',
    stage: 'blur',
    parameters: (def) => setOptions({ blur_mode: def.mode, blur_strength: numberOption(def.strength), blur_margin: numberOption(def.margin) }),
  });
};
