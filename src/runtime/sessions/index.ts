export { SessionPool } from './session-pool';
export type { SessionHandle, SessionPoolOptions, SessionPoolStats, AcquireOptions, Provider, DeviceRequest } from './session-pool';
export { Tensor } from 'onnxruntime-node';
