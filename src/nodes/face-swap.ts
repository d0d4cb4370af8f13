import type { Red } from './lib/red';
import { listOption, numberOption, setOptions } from './lib/config';
import { registerStageNode, type StageNodeDef } from './lib/stage-node';

interface Def extends StageNodeDef {
  model?: string;
  blendRatio?: string;
  faceSelector?: string;
  referenceDistance?: string;
  pixelBoost?: string;
  swapperWeight?: string;
  maskTypes?: string;
  maskRegions?: string;
  maskBlur?: string;
}

/** Puts the source face onto the selected target faces: embedded landmark swap, or a swapper model (inswapper_128, …). */
export = function (RED: Red): void {
  registerStageNode<Def>(RED, {
    type: 'face-swap',
    stage: 'swap',
    parameters: (def) =>
      setOptions({
        face_swapper_model: def.model?.trim(),
        blend_ratio: numberOption(def.blendRatio),
        face_selector: def.faceSelector,
        reference_distance: numberOption(def.referenceDistance),
        face_swapper_pixel_boost: numberOption(def.pixelBoost),
        face_swapper_weight: numberOption(def.swapperWeight),
        face_mask_types: listOption(def.maskTypes),
        face_mask_regions: listOption(def.maskRegions),
        face_mask_blur: numberOption(def.maskBlur),
      }),
  });
};
