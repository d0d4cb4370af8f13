import { resolve } from 'path';
import { FaceError } from '../errors';
import { videoMarks, type ProvenanceBasis } from '../provenance';
import { assertOutputDir, PartialOutput, renamesIntoPlace, type OutputCheck } from './output';

export interface VideoOutputOptions {
  /** Where a file output may be written (an output named in a message or a queued job): checked when it is opened and again at the rename. */
  check?: OutputCheck;
  /** The video's input (a file path or URL): an output that is the input itself is refused. */
  input?: string;
  /** What the video's provenance marks are made from (see provenance.ts videoMarks); none when undefined. */
  provenance?: ProvenanceBasis;
}

/** What the encoder is given for this output: where to write, the descriptor to write through, the container metadata. */
export interface EncoderTarget {
  output: string;
  outputFd?: number;
  metadata?: Record<string, string>;
}

/**
 * The output end of a video, the same for jobs (VideoJob) and flows (FrameTokenSink, i.e.
 * face-video-out): a file output is encoded under a hidden temporary name in its own folder,
 * created without following a link and written through its descriptor (PartialOutput), and
 * renamed to the final name only when the video finished cleanly (checked again first); a
 * failed or cancelled video leaves nothing under the final name. A stream URL, a named pipe or
 * a device is written in place. Also the provenance marks (container metadata) of the video.
 *
 *   const out = new VideoOutput('out.mp4', { provenance });
 *   await out.open();                       // before ffmpeg starts
 *   const enc = new VideoEncoder({ ...out.encoderTarget(), … });
 *   … await enc.finish(); const path = await out.commit();   // or: await out.discard()
 */
export class VideoOutput {
  /** The output as given. */
  readonly requested: string;
  private readonly file?: PartialOutput;
  private readonly metadata?: Record<string, string>;

  /** Throws E_BAD_OUTPUT for an empty output or an output that is the input itself (nothing is created yet). */
  constructor(output: string, options: VideoOutputOptions = {}) {
    if (typeof output !== 'string' || output.trim() === '') throw new FaceError('E_BAD_OUTPUT', 'video output is empty: give a file path or a stream URL');
    this.requested = output;
    if (renamesIntoPlace(output)) {
      this.file = new PartialOutput(output, options.check);
      if (options.input !== undefined && this.file.final === resolve(options.input)) {
        throw new FaceError('E_BAD_OUTPUT', `output "${output}" is the input itself; choose another output path`);
      }
    }
    const marks = options.provenance ? videoMarks(options.provenance) : undefined;
    if (marks) this.metadata = marks;
  }

  /** True for a file written under a temporary name and renamed; false for a stream, pipe or device written in place. */
  get renamed(): boolean {
    return this.file !== undefined;
  }

  /** The temporary file, while there is one (for tests and diagnostics). */
  get partial(): string | undefined {
    return this.file?.partial;
  }

  /** E_BAD_OUTPUT, naming the final file, when a file output's folder is missing or not writable (before anything is created). */
  checkFolder(): void {
    if (this.file) assertOutputDir(this.file.final);
  }

  /** Creates the temporary file in the output's folder as it is now (no link followed, checked); nothing for an in-place output. */
  async open(): Promise<void> {
    await this.file?.open();
  }

  /** The encoder's output options: the temporary file (through its descriptor once opened) or the output itself, and the marks. */
  encoderTarget(): EncoderTarget {
    const fd = this.file?.fd;
    return {
      output: this.file?.partial ?? this.requested,
      ...(fd !== undefined ? { outputFd: fd } : {}),
      ...(this.metadata ? { metadata: this.metadata } : {}),
    };
  }

  /** After a clean finish: the temporary file takes the final name (checked again). Returns where the video is. */
  async commit(): Promise<string> {
    return this.file ? this.file.commit() : this.requested;
  }

  /** After a failure or a cancel: the temporary file goes. Idempotent; nothing to do for an in-place output. */
  async discard(): Promise<void> {
    await this.file?.discard();
  }
}
