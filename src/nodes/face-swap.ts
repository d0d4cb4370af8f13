import type { Red } from './lib/red';
import { numberOption, registerStageNode, setOptions, type StageNodeDef } from './lib/stage-node';

interface Def extends StageNodeDef {
  blendRatio?: string;
  faceSelector?: string;
  referenceDistance?: string;
}

/** Puts the source face onto the selected target faces (embedded landmark-driven swap). */
export = function (RED: Red): void {
  registerStageNode<Def>(RED, {
    type: 'face-swap',
    stage: 'swap',
    parameters: (def) =>
      setOptions({ blend_ratio: numberOption(def.blendRatio), face_selector: def.faceSelector, reference_distance: numberOption(def.referenceDistance) }),
  });
};
