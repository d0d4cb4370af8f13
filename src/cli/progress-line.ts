import type { JobProgress, JobResult } from '../runtime/jobs';

/**
 * Progress on stderr: a redrawn bar on a terminal, a plain line every few seconds otherwise
 * (logs and CI capture stay readable).
 */
export class ProgressLine {
  private lastLineAt = 0;
  private drawn = false;

  constructor(
    private readonly out: NodeJS.WriteStream,
    private readonly intervalMs = 2000,
    private readonly now: () => number = Date.now,
  ) {}

  update(p: JobProgress): void {
    if (this.out.isTTY) {
      const width = 24;
      const filled = p.percent === undefined ? 0 : Math.round((p.percent / 100) * width);
      const bar = p.percent === undefined ? '' : `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${p.percent.toFixed(0).padStart(3)}% `;
      this.out.write(`\r${bar}${describe(p)}\x1b[K`);
      this.drawn = true;
      return;
    }
    const now = this.now();
    if (now - this.lastLineAt < this.intervalMs) return;
    this.lastLineAt = now;
    this.out.write(`progress: ${p.percent !== undefined ? `${p.percent.toFixed(1)}% ` : ''}${describe(p)}\n`);
  }

  /** Ends the bar's line so the summary starts on a fresh one. */
  end(): void {
    if (this.drawn) this.out.write('\n');
    this.drawn = false;
  }
}

function describe(p: JobProgress): string {
  const total = p.framesTotal !== undefined ? `/${p.framesTotal}` : '';
  const eta = p.etaSec !== undefined ? ` · ETA ${formatSeconds(p.etaSec)}` : '';
  const dropped = p.framesDropped > 0 ? ` · ${p.framesDropped} dropped` : '';
  return `${p.framesDone}${total} frames · ${p.fps.toFixed(1)} fps${dropped}${eta}`;
}

export function formatSeconds(s: number): string {
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
  const m = Math.floor(s / 60);
  return `${m} min ${Math.round(s - m * 60)} s`;
}

/** The closing summary: what was written and how fast. */
export function summary(result: JobResult): string {
  const lines = [`done: ${result.kind} → ${result.output}`];
  if (result.kind === 'video') {
    lines.push(`  ${result.frames} frames, ${result.width}x${result.height}, ${round(result.fps ?? 0)} fps, ${round(result.durationSec ?? 0)} s${result.audio ? ', with audio' : ''}`);
  } else {
    lines.push(`  ${result.width}x${result.height}`);
  }
  if (result.stopped) lines.push('  stopped on request: the frames read were finished and the output closed properly');
  if (result.framesRead !== undefined) {
    lines.push(
      `  frames read ${result.framesRead}, written ${result.framesWritten ?? result.frames}, dropped ${result.framesDropped}, late ${result.framesLate ?? 0}, repeated ${result.framesRepeated ?? 0}`,
    );
  }
  const live = result.live;
  if (live && live.policy !== 'block') {
    const how = live.gaps === 'hold' ? 'held on screen (by timestamp, not encoded)' : 'written again';
    lines.push(`  overload: ${live.policy} dropped ${live.dropped} of the camera's frames (queue peak ${live.queuePeak} of ${live.maxQueue}); the previous frame was ${how} for ${live.repeated}`);
  }
  if (live?.preset) lines.push(`  encoded with x264 preset ${live.preset}`);
  lines.push(`  stages: ${result.stages.join(' → ')}`);
  lines.push(
    `  processed ${result.framesProcessed} frame${result.framesProcessed === 1 ? '' : 's'} in ${formatSeconds(result.elapsedSec)} (${round(result.processingFps)} fps); failed ${result.framesFailed}, dropped ${result.framesDropped}, without a face ${result.framesNoFace}${result.framesDowngraded ? `, downgraded ${result.framesDowngraded}` : ''}`,
  );
  for (const d of result.downgrades) lines.push(`  frame ${d.frame}: ${d.action === 'drop' ? 'dropped' : 'restored'} ${d.step} (${d.reason})`);
  for (const a of result.alerts) lines.push(`  alert: ${a.message}`);
  return lines.join('\n');
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
