import type { FaceToken, Stage, JournalEntry, SkippedFace } from '../token/types';
import { advance, failToken, isExpired, skipStage } from '../token';
import { toFaceError } from '../errors';
import type { ProcessOptions, ProcessorContext } from './context';

export interface StageResult {
  patch?: Partial<Pick<FaceToken, 'faces' | 'source' | 'target' | 'parameters'>>;
  outcome?: Extract<JournalEntry['outcome'], 'ok' | 'no_face'>;
  note?: string;
  figures?: Record<string, number>;
  /** Selected faces the stage left unchanged, and why (journalled as faces_skipped). */
  skipped?: SkippedFace[];
}

/**
 * The frame every processor shares: skip when the stage is not asked for or the token is
 * already failed/skipped, refuse expired tokens, time the body, journal one entry, and turn
 * any thrown FaceError into a failed token (errors are values, never crashes).
 */
export async function runStage(
  stage: Stage,
  token: FaceToken,
  ctx: ProcessorContext,
  options: ProcessOptions | undefined,
  body: () => Promise<StageResult>,
  /** A `skipped` token the stage still runs on (the blur stage's hold, for a frame where no face was found). */
  runWhenSkipped?: (token: FaceToken) => boolean,
): Promise<FaceToken> {
  if (token.state === 'failed' || (token.state === 'skipped' && !runWhenSkipped?.(token))) {
    return skipStage(token, stage, `token is ${token.state}`);
  }
  if (!options?.force && !token.operations.includes(stage)) {
    return skipStage(token, stage, `${stage} is not in operations`);
  }
  const started = performance.now();
  if (isExpired(token, ctx.now())) {
    return failToken(token, stage, { code: 'E_TOKEN_EXPIRED', message: `token expired at ${token.expires_at}` }, 0);
  }
  try {
    const result = await body();
    const ms = round(performance.now() - started);
    const last = token.operations[token.operations.length - 1] === stage;
    return advance(
      token,
      // A token the downgrade policy marked keeps saying so to the end of its stages.
      { ...result.patch, state: token.state === 'downgraded_for_performance' ? token.state : last ? 'done' : 'running' },
      {
        stage,
        ms,
        outcome: result.outcome ?? 'ok',
        ...(result.note ? { note: result.note } : {}),
        ...(result.figures ? { figures: result.figures } : {}),
        ...(result.skipped?.length ? { faces_skipped: result.skipped } : {}),
      },
    );
  } catch (err) {
    // Vision code throws RangeError for geometry it cannot use (degenerate face points, a box
    // outside the frame): from a token that is a bad parameter, not an internal failure.
    const error = toFaceError(err, err instanceof RangeError ? 'E_BAD_PARAMETER' : 'E_INTERNAL', stage);
    return failToken(token, stage, { code: error.code, message: error.message }, round(performance.now() - started));
  }
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
