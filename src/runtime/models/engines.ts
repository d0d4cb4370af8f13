import { FaceError } from '../errors';
import type { SessionHandle } from '../sessions';
import type { Box, Frame, Point, Rect } from '../vision/frame';
import type { PixelTarget } from '../vision/blend';
import type { FaceDetector } from './types';
import { Rfb320Detector } from './default/rfb320-detector';
import { Pfld68Landmarker } from './default/pfld68-landmarker';
import { FacepluginEmbedder } from './default/faceplugin-embedder';
import { ArcfaceEmbedder, Fan2d4Landmarker, Fan68From5, GfpganEnhancer, RetinafaceMxnetDetector, ScrfdDetector, YolofaceDetector, YunetDetector, type EmbeddingPair, type EnhanceOptions } from './zoo';

/**
 * The engines the processors use, one interface per role whatever model plays it, and the
 * factories that build them from a loaded session by contract id. Adding a model family means
 * adding a case here (and its adapter in zoo/), never touching a processor.
 */

export interface LandmarkResult {
  points: Point[];
  /** 0..1 when the model reports how sure it is (2dfan4's heatmaps). */
  confidence?: number;
}

export interface LandmarkerEngine {
  readonly modelId: string;
  readonly provider: string;
  /** 68 points of the face in `bbox`; models that work from the detector's 5 points need `landmarks5`. */
  locate(frame: Frame, bbox: Box, landmarks5?: readonly Point[]): Promise<LandmarkResult>;
}

export interface RecognizerEngine {
  readonly modelId: string;
  readonly provider: string;
  /** Raw and L2-normalised identity embedding of the face at `landmarks5`. */
  embedPair(frame: Frame, landmarks5: readonly Point[]): Promise<EmbeddingPair>;
}

export interface EnhancerEngine {
  readonly modelId: string;
  readonly provider: string;
  enhanceInto(out: PixelTarget, frame: Frame, landmarks5: readonly Point[], options: EnhanceOptions): Promise<Rect>;
}

function unknownContract(role: string, contract: string, modelId: string, known: readonly string[]): FaceError {
  return new FaceError('E_MODEL_CONTRACT', `${modelId}: no ${role} adapter for the contract "${contract}" (${role}s supported: ${known.join(', ')})`, {
    details: { model: modelId },
  });
}

const DETECTORS = ['rfb320', 'scrfd', 'yunet', 'yoloface', 'retinaface_mxnet'] as const;

export function openDetector(contract: string, handle: SessionHandle, modelId: string): FaceDetector {
  switch (contract) {
    case 'rfb320':
      return new Rfb320Detector(handle, modelId);
    case 'scrfd':
      return new ScrfdDetector(handle, modelId);
    case 'yunet':
      return new YunetDetector(handle, modelId);
    case 'yoloface':
      return new YolofaceDetector(handle, modelId);
    case 'retinaface_mxnet':
      return new RetinafaceMxnetDetector(handle, modelId);
    default:
      throw unknownContract('detector', contract, modelId, DETECTORS);
  }
}

const LANDMARKERS = ['pfld68', '2dfan4', 'fan_68_5'] as const;

export function openLandmarker(contract: string, handle: SessionHandle, modelId: string): LandmarkerEngine {
  switch (contract) {
    case 'pfld68': {
      const model = new Pfld68Landmarker(handle, modelId);
      return {
        modelId,
        get provider() {
          return model.provider;
        },
        locate: async (frame, bbox) => ({ points: await model.landmarks68(frame, bbox) }),
      };
    }
    case '2dfan4': {
      const model = new Fan2d4Landmarker(handle, modelId);
      return {
        modelId,
        get provider() {
          return model.provider;
        },
        locate: (frame, bbox) => model.landmarks68WithConfidence(frame, bbox),
      };
    }
    case 'fan_68_5': {
      const model = new Fan68From5(handle, modelId);
      return {
        modelId,
        get provider() {
          return model.provider;
        },
        locate: async (_frame, _bbox, landmarks5) => {
          if (!landmarks5) {
            throw new FaceError(
              'E_BAD_PARAMETER',
              `${modelId} turns a detector's 5 points into 68, but this face has none: use a detector that gives 5 points (scrfd, yunet, yoloface, retinaface) or an image landmarker (2dfan4)`,
            );
          }
          return { points: await model.landmarks68From5(landmarks5) };
        },
      };
    }
    default:
      throw unknownContract('landmarker', contract, modelId, LANDMARKERS);
  }
}

const RECOGNIZERS = ['faceplugin_arcface112', 'arcface_w600k_r50'] as const;

export function openRecognizer(contract: string, handle: SessionHandle, modelId: string): RecognizerEngine {
  switch (contract) {
    case 'faceplugin_arcface112':
      return new FacepluginEmbedder(handle, modelId);
    case 'arcface_w600k_r50':
      return new ArcfaceEmbedder(handle, modelId);
    default:
      throw unknownContract('embedder', contract, modelId, RECOGNIZERS);
  }
}

const ENHANCERS = ['gfpgan', 'codeformer'] as const;

export function openEnhancer(contract: string, handle: SessionHandle, modelId: string): EnhancerEngine {
  switch (contract) {
    case 'gfpgan':
    case 'codeformer':
      return new GfpganEnhancer(handle, modelId);
    default:
      throw unknownContract('enhancer', contract, modelId, ENHANCERS);
  }
}
