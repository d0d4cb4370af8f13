import type { Red } from './lib/red';
import { numberOption, setOptions } from './lib/config';
import { registerStageNode, type StageNodeDef } from './lib/stage-node';

interface Def extends StageNodeDef {
  model?: string;
  blendRatio?: string;
  faceSelector?: string;
  enhancerWeight?: string;
}

/** Embedded face-region denoise + sharpen, or an enhancer model (gfpgan_1.4, codeformer, …), blended by blend ratio. */
export = function (RED: Red): void {
  registerStageNode<Def>(RED, {
    type: 'face-enhance',
    stage: 'enhance',
    parameters: (def) =>
      setOptions({
        face_enhancer_model: def.model?.trim(),
        face_enhancer_blend: numberOption(def.blendRatio),
        face_selector: def.faceSelector,
        face_enhancer_weight: numberOption(def.enhancerWeight),
      }),
  });
};
