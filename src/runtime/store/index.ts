export { FrameStore } from './frame-store';
export { InFlightLimit } from './in-flight-limit';
export type { FrameStoreOptions, FrameStoreStats, PutOptions, ReleaseListener, ReleaseOptions, ReleaseReason, Reservation } from './types';
