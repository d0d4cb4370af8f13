import type { Face, Parameters } from '../token/types';
import type { Frame } from '../vision/frame';
import type { ProcessorContext } from './context';
import { landmarks5From68, roundPoint } from '../faces/landmarks';

/** Below this 2dfan4 confidence the detector's own 5 points are kept (FaceFusion's rule). */
const LANDMARK_CONFIDENCE = 0.5;

/**
 * The face with 68 points from the token's landmarker and the 5 alignment points: derived from
 * the 68, unless the landmarker says it is unsure and the detector gave 5 points of its own.
 */
export async function withLandmarks(face: Face, frame: Frame, ctx: ProcessorContext, parameters: Parameters): Promise<Face> {
  const landmarker = await ctx.landmarker(parameters.face_landmarker_model);
  const result = await landmarker.locate(frame, face.bbox, face.landmarks5);
  const landmarks68 = result.points.map(roundPoint);
  const keepDetector = face.landmarks5 !== undefined && result.confidence !== undefined && result.confidence < LANDMARK_CONFIDENCE;
  return { ...face, landmarks68, landmarks5: keepDetector ? face.landmarks5 : landmarks5From68(landmarks68).map(roundPoint) };
}

/** The face as it is when it has 68 points already, else with landmarks added. */
export function ensureLandmarks(face: Face, frame: Frame, ctx: ProcessorContext, parameters: Parameters): Promise<Face> {
  return face.landmarks68 && face.landmarks5 ? Promise.resolve(face) : withLandmarks(face, frame, ctx, parameters);
}
