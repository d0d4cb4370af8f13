import type { Stage } from '../token/types';
import type { Processor } from './context';
import { detect } from './detect';
import { landmark } from './landmark';
import { embed } from './embed';
import { swap } from './swap';
import { enhance } from './enhance';
import { blur } from './blur';
import { debug } from './debug';

/** Stage name → processor. A constant table: processors hold no state. */
export const PROCESSORS: Readonly<Record<Stage, Processor>> = Object.freeze({ detect, landmark, embed, swap, enhance, blur, debug });

export { detect, landmark, embed, swap, enhance, blur, debug };
export type { Processor, ProcessorContext, ProcessOptions } from './context';
