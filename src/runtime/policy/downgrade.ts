import { freemem } from 'os';
import { FaceError } from '../errors';
import { advance } from '../token/token';
import type { FaceToken, Parameters, Stage } from '../token/types';

/** Optional work the policy may drop, cheapest loss first by default. */
export const DOWNGRADE_STEPS = ['enhance', 'masks', 'pixel_boost'] as const;
export type DowngradeStep = (typeof DOWNGRADE_STEPS)[number];
export type DowngradeReason = 'memory_constrained' | 'frame_budget';

/** Frame-store fill, process and system memory as the policy sees them (injectable for tests). */
export interface MemorySample {
  storeBytes: number;
  storeBudgetBytes: number;
  /** Producers waiting for room in the store (a decoder held up by a full store); default 0. */
  storeWaiting?: number;
  rssBytes: number;
  freeSystemBytes: number;
}

export interface DowngradeOptions {
  /** Work to drop in order (default enhance, masks, pixel_boost). */
  ladder?: readonly DowngradeStep[];
  /** Time a frame may take (sum of its stage times); unset = no time budget until setSourceInterval(). */
  frameBudgetMs?: number;
  /** Frame-store fill (bytes in use ÷ budget) at or above which memory is short (default 0.85); a producer waiting for room counts too. */
  storeHighFill?: number;
  /** Fill below which memory is fine again (default 0.6). */
  storeLowFill?: number;
  /** Process resident memory above which memory is short (default: not checked). */
  rssLimitBytes?: number;
  /** Free system memory below which memory is short (default 64 MiB; 0 = not checked). */
  minFreeSystemBytes?: number;
  /** Consecutive frames under pressure before one more step is dropped (default 3). */
  dropAfterFrames?: number;
  /** Consecutive frames without pressure before one step comes back (default 15). */
  restoreAfterFrames?: number;
  /**
   * Frames after which a step dropped for the time budget is tried again although the frames
   * measured with it did not fit (the machine may have become faster); default 300, 0 = never.
   */
  probeAfterFrames?: number;
  /** Memory figures (default: the store's stats, process.memoryUsage().rss, os.freemem()). */
  memory?: () => MemorySample;
}

/** One change of level, as journalled on the next token it affects. */
export interface DowngradeTransition {
  action: 'drop' | 'restore';
  step: DowngradeStep;
  reason: DowngradeReason;
  /** Frames observed when it happened. */
  frame: number;
  at: string;
}

export interface DowngradeState {
  /** Steps dropped now, in ladder order. */
  dropped: DowngradeStep[];
  reason?: DowngradeReason;
  frameBudgetMs?: number;
  /** Frames observed / frames a token was downgraded on. */
  framesObserved: number;
  framesDowngraded: number;
  transitions: DowngradeTransition[];
}

/** The work of one frame after the policy: stages and parameters, and what was taken out of them. */
export interface DowngradePlan {
  stages: Stage[];
  parameters: Parameters;
  dropped: DowngradeStep[];
}

const MASK_MODELS = new Set(['occlusion', 'region']);
const MAX_TRANSITIONS = 64;

/**
 * Drops optional work under pressure and brings it back when the pressure is gone (DESIGN.md,
 * policy/). Fed one observation per frame (`observe`): its time (sum of stage times) and the
 * memory figures sampled then. Pressure is memory (store fill, process RSS, free system memory)
 * or time (frame time over the budget). After `dropAfterFrames` frames of pressure one more step
 * of the ladder is dropped; after `restoreAfterFrames` frames without it one step comes back —
 * for the time budget only when the frames measured with that step would fit the budget now
 * (e.g. it was raised), so a frame rate that fits only without the step does not flap.
 * A job or a runtime owns one; nothing is global.
 */
export class DowngradePolicy {
  private readonly ladder: DowngradeStep[];
  private readonly storeHigh: number;
  private readonly storeLow: number;
  private readonly rssLimit?: number;
  private readonly minFree: number;
  private readonly dropAfter: number;
  private readonly restoreAfter: number;
  private readonly probeAfter: number;
  private readonly memory: () => MemorySample;
  private budgetMs?: number;
  private configuredBudget: boolean;
  private level = 0;
  private reason?: DowngradeReason;
  private pressureRun = 0;
  private calmRun = 0;
  private framesAtLevel = 0;
  /** Mean frame time measured at each level (index = level), used to decide a restore. */
  private readonly costAt: { sum: number; n: number }[] = [];
  private observed = 0;
  private downgraded = 0;
  private readonly history: DowngradeTransition[] = [];
  /** Transitions not yet journalled on a token, by step. */
  private readonly unjournalled = new Map<DowngradeStep, DowngradeTransition>();

  /** `store`: the frame store whose fill counts (bytes in use and reserved ÷ budget). */
  constructor(options: DowngradeOptions = {}, store?: { stats(): { bytes: number; reservedBytes: number; budgetBytes: number; waiting: number } }) {
    const ladder = [...(options.ladder ?? DOWNGRADE_STEPS)];
    for (const step of ladder) {
      if (!(DOWNGRADE_STEPS as readonly string[]).includes(step)) throw new FaceError('E_BAD_PARAMETER', `unknown downgrade step "${String(step)}" (known: ${DOWNGRADE_STEPS.join(', ')})`);
    }
    this.ladder = [...new Set(ladder)];
    this.storeHigh = options.storeHighFill ?? 0.85;
    this.storeLow = options.storeLowFill ?? 0.6;
    this.rssLimit = options.rssLimitBytes;
    this.minFree = options.minFreeSystemBytes ?? 64 * 1024 * 1024;
    this.dropAfter = Math.max(1, Math.floor(options.dropAfterFrames ?? 3));
    this.restoreAfter = Math.max(1, Math.floor(options.restoreAfterFrames ?? 15));
    this.probeAfter = Math.max(0, Math.floor(options.probeAfterFrames ?? 300));
    this.memory =
      options.memory ??
      (() => {
        const stats = store?.stats();
        return {
          storeBytes: stats ? stats.bytes + stats.reservedBytes : 0,
          storeBudgetBytes: stats?.budgetBytes ?? 0,
          storeWaiting: stats?.waiting ?? 0,
          rssBytes: process.memoryUsage.rss(),
          freeSystemBytes: freemem(),
        };
      });
    this.configuredBudget = options.frameBudgetMs !== undefined;
    if (options.frameBudgetMs !== undefined) this.setFrameBudget(options.frameBudgetMs);
  }

  /** Sets (or, with undefined, clears) the time budget of a frame; it wins over a source's interval. */
  setFrameBudget(ms: number | undefined): void {
    if (ms !== undefined && !(Number.isFinite(ms) && ms > 0)) throw new FaceError('E_BAD_PARAMETER', `frame budget must be a number of ms > 0 (got ${ms})`);
    this.budgetMs = ms;
    this.configuredBudget = ms !== undefined;
    this.calmRun = 0;
  }

  /** A live source's frame interval: the budget unless one was configured. */
  setSourceInterval(ms: number): void {
    if (this.configuredBudget || !(Number.isFinite(ms) && ms > 0)) return;
    this.budgetMs = ms;
  }

  get frameBudgetMs(): number | undefined {
    return this.budgetMs;
  }

  /** One frame: its processing time (ms; omit when unknown) and the memory figures of now. */
  observe(frameMs?: number): void {
    this.observed++;
    this.framesAtLevel++;
    if (frameMs !== undefined && Number.isFinite(frameMs)) {
      const cost = (this.costAt[this.level] ??= { sum: 0, n: 0 });
      // A running mean over the last ~20 frames of this level.
      if (cost.n >= 20) cost.sum -= cost.sum / cost.n;
      else cost.n++;
      cost.sum += frameMs;
    }
    const pressure = this.pressure(frameMs);
    if (pressure) {
      this.calmRun = 0;
      this.pressureRun++;
      if (this.pressureRun >= this.dropAfter && this.level < this.ladder.length) {
        this.reason = pressure;
        this.move(+1, pressure);
      }
      return;
    }
    this.pressureRun = 0;
    if (this.level === 0) return;
    this.calmRun++;
    if (this.calmRun >= this.restoreAfter && this.mayRestore()) this.move(-1, this.reason ?? 'frame_budget');
  }

  /** Steps dropped now. */
  dropped(): DowngradeStep[] {
    return this.ladder.slice(0, this.level);
  }

  /** Whether the policy drops a whole stage now (e.g. a wired face enhance passes its tokens on). */
  dropsStage(stage: Stage): boolean {
    return stage === 'enhance' && this.dropped().includes('enhance');
  }

  /** What the current level takes out of `stages` with `parameters` (only steps that change something). */
  plan(stages: readonly Stage[], parameters: Parameters): DowngradePlan {
    const dropped: DowngradeStep[] = [];
    let outStages = [...stages];
    let outParameters: Parameters = parameters;
    for (const step of this.dropped()) {
      if (step === 'enhance' && outStages.includes('enhance')) {
        outStages = outStages.filter((s) => s !== 'enhance');
        dropped.push(step);
      } else if (step === 'masks' && stages.includes('swap') && parameters.face_mask_types?.some((m) => MASK_MODELS.has(m))) {
        outParameters = { ...outParameters, face_mask_types: parameters.face_mask_types.filter((m) => !MASK_MODELS.has(m)) };
        dropped.push(step);
      } else if (step === 'pixel_boost' && stages.includes('swap') && parameters.face_swapper_pixel_boost !== undefined) {
        const { face_swapper_pixel_boost: _boost, ...rest } = outParameters;
        outParameters = rest;
        dropped.push(step);
      }
    }
    return { stages: outStages, parameters: outParameters, dropped };
  }

  /**
   * The token marked for what `plan` dropped of its work: state downgraded_for_performance and a
   * journal entry naming the reason and the steps; a step restored since the last token that
   * had it journals its restore here too. `counted` counts the frame as downgraded (once per frame).
   */
  mark(token: FaceToken, plan: DowngradePlan, counted = true): FaceToken {
    let out = token;
    for (const step of DOWNGRADE_STEPS) {
      const t = this.unjournalled.get(step);
      if (t?.action !== 'restore' || plan.dropped.includes(step)) continue;
      if (!this.touches(step, token.operations, plan)) continue;
      this.unjournalled.delete(step);
      out = advance(out, {}, { stage: 'downgrade', ms: 0, outcome: 'ok', note: `restored ${step}: ${t.reason === 'memory_constrained' ? 'memory' : 'frame time'} back within limits` });
    }
    if (plan.dropped.length === 0) return out;
    for (const step of plan.dropped) if (this.unjournalled.get(step)?.action === 'drop') this.unjournalled.delete(step);
    if (counted) this.downgraded++;
    const reason = this.reason ?? 'frame_budget';
    const budget = reason === 'frame_budget' && this.budgetMs !== undefined ? ` (budget ${Math.round(this.budgetMs)} ms)` : '';
    const dropsStage = plan.dropped.includes('enhance');
    const patch = {
      state: 'downgraded_for_performance' as const,
      parameters: plan.parameters,
      ...(dropsStage ? { operations: out.operations.filter((s) => s !== 'enhance') } : {}),
    };
    return advance(out, patch, { stage: 'downgrade', ms: 0, outcome: 'skipped', note: `${reason}: dropped ${plan.dropped.join(', ')}${budget}` });
  }

  /** Current reason in a few words for a node status ("memory", "frame time"). */
  reasonText(): string {
    return this.reason === 'memory_constrained' ? 'memory' : 'frame time';
  }

  state(): DowngradeState {
    return {
      dropped: this.dropped(),
      ...(this.level > 0 && this.reason ? { reason: this.reason } : {}),
      ...(this.budgetMs !== undefined ? { frameBudgetMs: this.budgetMs } : {}),
      framesObserved: this.observed,
      framesDowngraded: this.downgraded,
      transitions: this.history.map((t) => ({ ...t })),
    };
  }

  private touches(step: DowngradeStep, operations: readonly Stage[], plan: DowngradePlan): boolean {
    if (step === 'enhance') return plan.stages.includes('enhance') || operations.includes('enhance');
    return plan.stages.includes('swap') || operations.includes('swap');
  }

  private pressure(frameMs: number | undefined): DowngradeReason | undefined {
    if (this.memoryShort(this.storeHigh)) return 'memory_constrained';
    if (frameMs !== undefined && this.budgetMs !== undefined && frameMs > this.budgetMs) return 'frame_budget';
    return undefined;
  }

  private memoryShort(storeFill: number): boolean {
    const m = this.memory();
    if (m.storeBudgetBytes > 0 && m.storeBytes / m.storeBudgetBytes >= storeFill) return true;
    // A producer (the decoder, a video source) waiting for room: the store is what holds frames up.
    if ((m.storeWaiting ?? 0) > 0) return true;
    if (this.rssLimit !== undefined && m.rssBytes > this.rssLimit) return true;
    return this.minFree > 0 && m.freeSystemBytes < this.minFree;
  }

  /** Calm for a while: memory well below its mark, and the frames measured one level up would fit the budget. */
  private mayRestore(): boolean {
    if (this.memoryShort(this.storeLow)) return false;
    if (this.reason !== 'frame_budget' || this.budgetMs === undefined) return true;
    const above = this.costAt[this.level - 1];
    if (!above || above.n === 0) return true;
    if (above.sum / above.n <= this.budgetMs) return true;
    return this.probeAfter > 0 && this.framesAtLevel >= this.probeAfter;
  }

  private move(delta: 1 | -1, reason: DowngradeReason): void {
    const step = delta > 0 ? this.ladder[this.level] : this.ladder[this.level - 1];
    this.level += delta;
    this.pressureRun = 0;
    this.calmRun = 0;
    this.framesAtLevel = 0;
    // Fresh measurements for the level entered (a probe must measure again).
    this.costAt[this.level] = { sum: 0, n: 0 };
    const transition: DowngradeTransition = { action: delta > 0 ? 'drop' : 'restore', step, reason, frame: this.observed, at: new Date().toISOString() };
    this.history.push(transition);
    if (this.history.length > MAX_TRANSITIONS) this.history.shift();
    this.unjournalled.set(step, transition);
    if (this.level === 0) this.reason = undefined;
  }
}
