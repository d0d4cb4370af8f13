/**
 * Video I/O on ffmpeg: locate the binary, probe sources, decode into the frame store with
 * backpressure, encode frames (in index order) to files or streams.
 */
export { FfmpegLocator } from './ffmpeg-path';
export type { FfmpegInfo, FfmpegLocatorOptions, FfmpegSource } from './ffmpeg-path';
export { probeMedia, parseFfmpegDump, exactFps } from './probe';
export { fpsArg } from './ffmpeg-args';
export { defaultPreset, defaultQuality } from './io-defaults';
export type { MediaInfo, ProbeOptions, ParsedDump, StreamInfo } from './probe';
export { classifySource, INPUT_SCHEMES, redactUrl } from './source';
export type { MediaSource, SourceKind } from './source';
export { VideoDecoder, OVERLOAD_POLICIES } from './decoder';
export type { DecodedFrame, DecoderStreamInfo, VideoDecoderOptions, OverloadPolicy, OverloadOptions } from './decoder';
export { VideoEncoder } from './encoder';
export { qualityToCrf } from './ffmpeg-args';
export type { EncodeResult, VideoEncoderOptions } from './encoder';
