import type { FaceToken } from '../token/types';
import type { ProcessorContext } from './context';
import type { StageResult } from './stage';
import type { SwapSourceInput } from '../models/swapper-engine';
import { faceError } from '../errors';
import { selectFaces } from '../faces/select';
import { analyseSource } from './source-face';
import type { Frame } from '../vision/frame';
import { withDerivedRoom } from './frames';
import { drawFacesWithModel } from './yuv-pixels';
import { assertFaceWork } from './limits';
import { boxMaskOptions, clamp01 } from './params';
import { realFaces, skippedNote } from './face-check';

/**
 * The model swap of the selected faces: each target face is aligned to the swapper's template,
 * swapped with the source identity (the recognizer's raw embedding, or the source face picture
 * for image-source swappers) and pasted back through the box mask over the covered rectangle.
 * blend_ratio defaults to 1 here (FaceFusion pastes the whole result).
 */
export async function swapFacesWithModel(token: FaceToken, ctx: ProcessorContext, model: string): Promise<StageResult> {
  const { swapper, recognizer } = await ctx.swapper(model);
  const params = token.parameters;
  const stored = ctx.store.pixels(token.target.frame);
  const selected = selectFaces(token.faces, params, 'swap');
  if (selected.length === 0) return { outcome: 'no_face', note: 'no face matched the selector' };
  // Too much face area is refused before any work; only boxes that pass the face-likeness check
  // are swapped, the rest journalled.
  assertFaceWork(ctx, token.faces, selected, stored, 'swap');
  const checked = await realFaces(token, ctx, selected);
  const indices = checked.keep;
  if (indices.length === 0) return { patch: { faces: checked.faces }, skipped: checked.skipped, note: `0 faces${skippedNote(checked.skipped)}` };

  const source = await analyseSource(token, ctx, 'swap', recognizer);
  const input: SwapSourceInput = {};
  if (swapper.sourceKind === 'embedding') {
    if (!source.embedding) throw faceError('E_NO_SOURCE', `${swapper.modelId} needs the source face's identity: give the token a source image`, { stage: 'swap' });
    if (source.embedding_model && recognizer && source.embedding_model !== recognizer.modelId) {
      throw faceError('E_NO_SOURCE', `the source embedding was made by ${source.embedding_model}, but ${swapper.modelId} takes ${recognizer.modelId} embeddings: give the token a source image`, {
        stage: 'swap',
      });
    }
    // token.source keeps the unit vector and its length, so the raw embedding is exact again.
    const norm = source.embedding_norm ?? 1;
    input.embedding = Float32Array.from(source.embedding, (v) => v * norm);
  } else {
    if (!source.frame || !source.face?.landmarks5) throw faceError('E_NO_SOURCE', `${swapper.modelId} swaps from the source picture: give the token a source image`, { stage: 'swap' });
    input.frame = ctx.store.get(source.frame);
    input.landmarks5 = source.face.landmarks5;
  }

  const weight = params.face_swapper_weight;
  const mixes = weight !== undefined && weight !== 0.5;
  if (mixes && !recognizer) throw faceError('E_BAD_PARAMETER', `face_swapper_weight needs a recognizer, and ${swapper.modelId} has none`, { stage: 'swap' });
  // FaceFusion's masks: occlusion (xseg) on the target crop, region (bisenet) on the swapped crop; min-combined with the box.
  const types = params.face_mask_types ?? ['box'];
  const occluder = types.includes('occlusion') ? await ctx.masker('occlusion', params.face_occluder_model) : undefined;
  const parser = types.includes('region') ? await ctx.masker('region', params.face_parser_model, params.face_mask_regions) : undefined;
  assertFaceWork(ctx, token.faces, indices, stored, 'swap');
  return withDerivedRoom(ctx, stored, async (room) => {
    // A video job's YUV frame: RGB only around the swapped faces, changed pixels written back.
    const drawn = await drawFacesWithModel(ctx, token, checked.faces, indices, room, async (out, target, face) => {
      const landmarks5 = face.landmarks5!;
      const targetEmbedding = mixes ? (await recognizer!.embedPair(target, landmarks5)).raw : undefined;
      await swapper.swapInto(out, target, landmarks5, input, {
        blend: clamp01(params.blend_ratio ?? 1),
        ...boxMaskOptions(params),
        ...(params.face_swapper_pixel_boost ? { pixelBoost: params.face_swapper_pixel_boost } : {}),
        ...(mixes ? { weight, targetEmbedding } : {}),
        ...(occluder ? { masks: [(crop: Frame) => occluder.maskFor(crop)] } : {}),
        ...(parser ? { swappedMasks: [(crop: Frame) => parser.maskFor(crop)] } : {}),
      });
    });
    return {
      patch: { source, ...drawn },
      note: `${indices.length} face${indices.length === 1 ? '' : 's'} · ${swapper.modelId} · ${swapper.provider}${skippedNote(checked.skipped)}`,
      skipped: checked.skipped,
    };
  });
}
