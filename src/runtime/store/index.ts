export { FrameStore } from './frame-store';
export type { FrameStoreOptions, FrameStoreStats, PutOptions, Reservation } from './types';
