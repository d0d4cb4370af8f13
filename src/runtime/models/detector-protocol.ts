import type { DetectedFace, DetectOptions } from './types';
import type { DeviceRequest } from '../sessions/session-pool';

/** What a detector thread is started with. */
export interface DetectorWorkerData {
  path: string;
  contract: string;
  modelId: string;
  device: DeviceRequest;
  threads: number;
}

/** One input: an RGB frame of the detector's sample size, its buffer transferred. */
export interface DetectorRequest {
  id: number;
  width: number;
  height: number;
  data: ArrayBuffer;
  options: DetectOptions;
}

export type DetectorResponse = { id: number; ok: true; faces: DetectedFace[]; data: ArrayBuffer } | { id: number; ok: false; code: string; message: string; data: ArrayBuffer };
