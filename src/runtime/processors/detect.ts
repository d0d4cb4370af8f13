import type { Face, FaceToken } from '../token/types';
import type { ProcessOptions, ProcessorContext } from './context';
import { runStage } from './stage';
import { boxArea } from '../faces/select';
import { roundPoint } from '../faces/landmarks';
import { DEFAULT_MIN_FACE, DEFAULT_PRIVACY_MIN_FACE, minFaceForTileSize, parseDetectTiling, parseMinFace, planScan, type DetectorScanProfile, type ScanPlan } from '../faces/scan-plan';
import { confirm, fullSelection, merge, runScan, scanDeferred, scanProfile, type ScanOptions } from '../faces/scan-detect';
import type { DetectedFace } from '../models/types';
import { MAX_FACES } from '../token/schema';
import { detectThreshold, frameEdgeThreshold } from './detect-thresholds';
import { privacyStream } from './privacy-stream';

export { DEFAULT_SCORE_THRESHOLD, DEFAULT_BLUR_SCORE_THRESHOLD, detectThreshold } from './detect-thresholds';

/**
 * Second looks (scan-detect.ts) a video frame may take at most: new faces only (a sure track's
 * face is trusted), so a crowd entering the view costs a few frames, not one.
 */
const STREAM_SECOND_LOOKS = 8;

/**
 * The smallest face the token's scan must cover: detect_min_face, or the legacy detect_tiling
 * size, or the default — 20 px for a privacy blur, 48 px for other stages; undefined with
 * detect_tiling off (the whole frame only).
 */
export function minFaceFor(token: FaceToken, profile: DetectorScanProfile): number | undefined {
  const tiling = parseDetectTiling(token.parameters.detect_tiling);
  if (tiling === 'off') return undefined;
  const asked = parseMinFace(token.parameters.detect_min_face);
  if (asked !== undefined) return asked;
  if (typeof tiling === 'number') return minFaceForTileSize(tiling, profile);
  return token.operations.includes('blur') ? DEFAULT_PRIVACY_MIN_FACE : DEFAULT_MIN_FACE;
}

/**
 * Finds faces in the target frame with face_detector_model: pixel boxes, scores, 5 points when
 * the model gives them; largest first. The frame is searched with a scale pyramid (scan-plan.ts)
 * covering faces from the token's min face up to the whole frame. A frame of a video or live
 * source that blurs scans the whole frame and a rolling share of the pyramid's tiles (its
 * stream's schedule: every tile within detect_scan_interval), and tells the stream what it found.
 */
export async function detect(token: FaceToken, ctx: ProcessorContext, options?: ProcessOptions): Promise<FaceToken> {
  return runStage('detect', token, ctx, options, async () => {
    // As stored: a video job's YUV frame is sampled to the detector's input without conversion.
    const frame = ctx.store.pixels(token.target.frame);
    // A video or live frame's detection runs on the detector thread when the runtime has one.
    const video = token.job_id !== undefined && token.target.index !== undefined;
    const detector = await (video && ctx.videoDetector ? ctx.videoDetector(token.parameters.face_detector_model) : ctx.detector(token.parameters.face_detector_model));
    const profile = scanProfile(detector);
    const plan: ScanPlan = ctx.plans ? ctx.plans.get(frame.width, frame.height, profile, minFaceFor(token, profile)) : planScan(frame.width, frame.height, profile, minFaceFor(token, profile));
    const stream = privacyStream(token, ctx);
    const index = token.target.index as number;
    const detectOptions: ScanOptions = {
      scoreThreshold: detectThreshold(token),
      edgeScoreThreshold: frameEdgeThreshold(token),
      // A privacy blur must not stop at the 20th face of a crowd.
      maxFaces: Math.min(token.parameters.max_faces ?? (token.operations.includes('blur') ? MAX_FACES : 20), MAX_FACES),
    };
    let found: { faces: DetectedFace[]; tilesRun: number; secondLooks: number };
    if (!stream) {
      found = await runScan(detector, frame, plan, detectOptions, fullSelection(plan), ctx.store);
    } else {
      try {
        const scan = await scanDeferred(detector, frame, plan, detectOptions, stream.selection(plan, index, token.target.pts ?? index / 25), ctx.store);
        // Second looks in frame order, against the tracks as of the frame before (deterministic
        // whatever other frames in flight have done): a sure track's face needs none.
        await stream.turn(index);
        const checked = await confirm(
          detector,
          frame,
          scan.candidates,
          { trusted: (box) => stream.tracks.confirms(index, box), maxSecondLooks: STREAM_SECOND_LOOKS, edgeScoreThreshold: detectOptions.edgeScoreThreshold },
          ctx.store,
        );
        found = { faces: merge([...scan.confirmed, ...checked.faces], detectOptions), tilesRun: scan.tilesRun, secondLooks: checked.looks };
      } catch (error) {
        stream.finish(index);
        throw error;
      }
    }
    const faces: Face[] = found.faces
      .map((f) => ({
        bbox: f.bbox.map((v) => Math.round(v * 10) / 10) as Face['bbox'],
        score: Math.round(f.score * 1e4) / 1e4,
        ...(f.landmarks5 ? { landmarks5: f.landmarks5.map(roundPoint) } : {}),
      }))
      .sort((a, b) => boxArea(b) - boxArea(a));
    if (stream) await stream.observe(index, faces, frame);
    const tiles = plan.tiles.length ? ` · ${found.tilesRun === plan.tiles.length ? `${plan.tiles.length} tiles` : `${found.tilesRun} of ${plan.tiles.length} tiles`} + whole frame` : '';
    return {
      patch: { faces },
      outcome: faces.length ? 'ok' : 'no_face',
      note: `${faces.length} face${faces.length === 1 ? '' : 's'} · ${detector.modelId} · ${detector.provider}${tiles} · faces ≥ ${plan.minFaceCovered} px`,
      figures: { faces: faces.length, tiles: found.tilesRun, plan_tiles: plan.tiles.length, min_face: plan.minFaceCovered, second_looks: found.secondLooks },
    };
  });
}
