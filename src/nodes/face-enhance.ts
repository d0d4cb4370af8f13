import type { Red } from './lib/red';
import { numberOption, registerStageNode, setOptions, type StageNodeDef } from './lib/stage-node';

interface Def extends StageNodeDef {
  blendRatio?: string;
  faceSelector?: string;
}

/** Embedded face-region denoise + sharpen, blended by blend ratio. */
export = function (RED: Red): void {
  registerStageNode<Def>(RED, {
    type: 'face-enhance',
    stage: 'enhance',
    parameters: (def) => setOptions({ blend_ratio: numberOption(def.blendRatio), face_selector: def.faceSelector }),
  });
};
