import { writeFile } from 'fs/promises';
import { extname } from 'path';
import { FaceError } from '../errors';
import { encodeImage } from '../vision/codec';
import { provenanceOf, xmpPacket } from '../provenance';
import type { Runtime } from '../runtime';
import type { NormalizedJob } from './args';
import { assertOutputDir, PartialOutput, renamesIntoPlace } from './output';
import { ProgressMeter } from './progress';
import { facesSkipped, withBlurReferences } from './frame-work';
import type { JobResult } from './types';
import { pictureCoverage } from '../processors/privacy-stream';

/**
 * One picture: a token through the stages → an encoded file. A picture without a face is
 * written unchanged (like a video frame); any other stage failure fails the job with its code.
 */
export class ImageJob {
  private cancelled = false;
  readonly meter: ProgressMeter;

  constructor(private readonly id: string, private readonly job: NormalizedJob, private readonly runtime: Runtime, private readonly onProgress: (meter: ProgressMeter) => void) {
    this.meter = new ProgressMeter(id, 1);
  }

  pids(): { decoder?: number; encoder?: number } {
    return {};
  }

  /** A running stage cannot be interrupted; the result is discarded and run() rejects E_CLOSED. */
  async cancel(): Promise<void> {
    this.cancelled = true;
  }

  async run(): Promise<JobResult> {
    const { args, stages, sourcePath } = this.job;
    const output = assertOutputDir(args.output_path);
    this.meter.start();
    // A missing or wrong model fails the job before the picture is decoded.
    await this.runtime.prepareModels(stages, args.parameters ?? {});
    if (this.cancelled) throw new FaceError('E_CLOSED', 'the job was cancelled');
    const parameters = await withBlurReferences(this.runtime, args, this.id);
    const token = await this.runtime.createToken({
      target: args.target_path,
      ...(sourcePath ? { source: sourcePath } : {}),
      operations: stages,
      parameters,
      job_id: this.id,
    });
    let last = token;
    try {
      last = await this.runtime.run(token);
      if (this.cancelled) throw new FaceError('E_CLOSED', 'the job was cancelled');
      const noFace = last.error?.code === 'E_NO_FACE' || (last.faces.length === 0 && stages.length > 1);
      if (last.state === 'failed' && !noFace) {
        throw new FaceError(last.error!.code as FaceError['code'], `${last.error!.stage}: ${last.error!.message}`, { stage: last.error!.stage });
      }
      const ext = extname(output).toLowerCase();
      const format = ext === '.png' ? 'png' : ext === '.webp' ? 'webp' : 'jpeg';
      // With no face the picture goes out as it came in (the target frame of the first token).
      const frame = this.runtime.frame((noFace ? token : last).target.frame);
      const marks = noFace || args.provenance === false ? undefined : provenanceOf(last);
      // Written under a temporary name, renamed when complete: no half-written file under the final name.
      const bytes = await encodeImage(frame, { format, quality: args.quality ?? 90, ...(marks ? { xmp: xmpPacket(marks) } : {}) });
      if (renamesIntoPlace(output)) {
        const file = new PartialOutput(output);
        try {
          await writeFile(file.partial, bytes);
          await file.commit();
        } catch (error) {
          await file.discard();
          throw error;
        }
      } else {
        await writeFile(output, bytes); // a pipe or device: written in place
      }
      this.meter.framesDone = 1;
      if (noFace) this.meter.framesNoFace = 1;
      this.onProgress(this.meter);
      const privacy = pictureCoverage(last);
      return {
        kind: 'image',
        output,
        frames: 1,
        framesProcessed: 1,
        framesFailed: 0,
        framesDropped: 0,
        framesNoFace: noFace ? 1 : 0,
        facesSkipped: facesSkipped(last),
        framesDowngraded: 0,
        downgrades: [],
        alerts: [],
        width: frame.width,
        height: frame.height,
        elapsedSec: this.meter.elapsedSec(),
        processingFps: this.meter.snapshot().fps,
        ...(privacy ? { privacy } : {}),
        stages,
      };
    } finally {
      this.runtime.release(last);
      this.runtime.release(token);
    }
  }
}
