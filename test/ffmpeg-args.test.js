'use strict';
/**
 * The ffmpeg command lines of the video I/O, pinned. The expected arguments were captured from
 * the encoder, decoder and probe before their building moved into runtime/video/ffmpeg-args.ts
 * (the encoder's and decoder's own methods, and the probe's runs through a stand-in ffmpeg
 * that logged its arguments): the pure builder must give the very same lines.
 */
const assert = require('assert');
const { classifySource, colourTagArgs, countFramesArgs, decoderArgs, encoderArgs, fdOutputFor, fpsArg, outputTarget, outputWhitelist, probeArgs, qualityToCrf, x264Args } = require('../dist/runtime/internal');

describe('ffmpeg arguments (pure builder)', function () {
  describe('encoder: frames on stdin to a file or stream', function () {
    const cases = [
    ['file-rgb', { output: '/videos/out.mp4', target: { kind: 'file', path: '/videos/out.mp4' }, width: 64, height: 48, fps: 25, audioIoTimeoutMs: 10000, ffmpegMajor: 6 },
      ['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'error', '-f', 'rawvideo', '-pixel_format', 'rgb24', '-video_size', '64x48', '-framerate', '25', '-protocol_whitelist', 'pipe', '-i', 'pipe:0', '-map', '0:v:0', '-c:v', 'libx264', '-crf', '10', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-protocol_whitelist', 'file', '-y', '/videos/out.mp4']],
    ['file-rgb-no-major', { output: '/videos/out.mp4', target: { kind: 'file', path: '/videos/out.mp4' }, width: 64, height: 48, fps: 25, audioIoTimeoutMs: 10000 },
      ['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'error', '-f', 'rawvideo', '-pixel_format', 'rgb24', '-video_size', '64x48', '-framerate', '25', '-protocol_whitelist', 'pipe', '-i', 'pipe:0', '-map', '0:v:0', '-c:v', 'libx264', '-crf', '10', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-protocol_whitelist', 'file', '-y', '/videos/out.mp4']],
    ['file-yuv-bt709', { output: '/videos/out.mp4', target: { kind: 'file', path: '/videos/out.mp4' }, width: 64, height: 48, fps: 25, audioIoTimeoutMs: 10000, ffmpegMajor: 6, pixelFormat: 'yuv420p', matrix: 'bt709' },
      ['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'error', '-f', 'rawvideo', '-pixel_format', 'yuv420p', '-video_size', '64x48', '-framerate', '25', '-protocol_whitelist', 'pipe', '-i', 'pipe:0', '-map', '0:v:0', '-c:v', 'libx264', '-crf', '10', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-colorspace', 'bt709', '-protocol_whitelist', 'file', '-y', '/videos/out.mp4']],
    ['file-yuv-bt601', { output: '/videos/out.mp4', target: { kind: 'file', path: '/videos/out.mp4' }, width: 64, height: 48, fps: 25, audioIoTimeoutMs: 10000, ffmpegMajor: 6, pixelFormat: 'yuv420p' },
      ['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'error', '-f', 'rawvideo', '-pixel_format', 'yuv420p', '-video_size', '64x48', '-framerate', '25', '-protocol_whitelist', 'pipe', '-i', 'pipe:0', '-map', '0:v:0', '-c:v', 'libx264', '-crf', '10', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-protocol_whitelist', 'file', '-y', '/videos/out.mp4']],
    ['file-rgb-matrix-ignored', { output: '/videos/out.mp4', target: { kind: 'file', path: '/videos/out.mp4' }, width: 64, height: 48, fps: 25, audioIoTimeoutMs: 10000, ffmpegMajor: 6, pixelFormat: 'rgb24', matrix: 'bt709' },
      ['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'error', '-f', 'rawvideo', '-pixel_format', 'rgb24', '-video_size', '64x48', '-framerate', '25', '-protocol_whitelist', 'pipe', '-i', 'pipe:0', '-map', '0:v:0', '-c:v', 'libx264', '-crf', '10', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-protocol_whitelist', 'file', '-y', '/videos/out.mp4']],
    ['file-odd-size', { output: '/videos/out.mp4', target: { kind: 'file', path: '/videos/out.mp4' }, width: 65, height: 49, fps: 25, audioIoTimeoutMs: 10000, ffmpegMajor: 6 },
      ['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'error', '-f', 'rawvideo', '-pixel_format', 'rgb24', '-video_size', '65x49', '-framerate', '25', '-protocol_whitelist', 'pipe', '-i', 'pipe:0', '-map', '0:v:0', '-vf', 'pad=ceil(iw/2)*2:ceil(ih/2)*2', '-c:v', 'libx264', '-crf', '10', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-protocol_whitelist', 'file', '-y', '/videos/out.mp4']],
    ['file-ntsc', { output: '/videos/out.mp4', target: { kind: 'file', path: '/videos/out.mp4' }, width: 64, height: 48, fps: 29.97002997002997, audioIoTimeoutMs: 10000, ffmpegMajor: 6 },
      ['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'error', '-f', 'rawvideo', '-pixel_format', 'rgb24', '-video_size', '64x48', '-framerate', '30000/1001', '-protocol_whitelist', 'pipe', '-i', 'pipe:0', '-map', '0:v:0', '-c:v', 'libx264', '-crf', '10', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-protocol_whitelist', 'file', '-y', '/videos/out.mp4']],
    ['file-fps-12.5', { output: '/videos/out.mp4', target: { kind: 'file', path: '/videos/out.mp4' }, width: 64, height: 48, fps: 12.5, audioIoTimeoutMs: 10000, ffmpegMajor: 6 },
      ['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'error', '-f', 'rawvideo', '-pixel_format', 'rgb24', '-video_size', '64x48', '-framerate', '12.5', '-protocol_whitelist', 'pipe', '-i', 'pipe:0', '-map', '0:v:0', '-c:v', 'libx264', '-crf', '10', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-protocol_whitelist', 'file', '-y', '/videos/out.mp4']],
    ['audio-file', { output: '/videos/out.mp4', target: { kind: 'file', path: '/videos/out.mp4' }, width: 64, height: 48, fps: 25, audioIoTimeoutMs: 10000, ffmpegMajor: 6, audioFrom: '/videos/in.mp4' },
      ['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'error', '-f', 'rawvideo', '-pixel_format', 'rgb24', '-video_size', '64x48', '-framerate', '25', '-protocol_whitelist', 'pipe', '-i', 'pipe:0', '-protocol_whitelist', 'file', '-format_whitelist', 'mov,matroska,webm,avi,mpegts,mpeg,mpegvideo,flv,ogg,asf,nut,mxf,dv,h264,hevc,m4v,mjpeg,ivf,yuv4mpegpipe,gif,apng,wav,mp3,aac,flac', '-i', '/videos/in.mp4', '-map', '0:v:0', '-map', '1:a:0?', '-c:a', 'aac', '-shortest', '-c:v', 'libx264', '-crf', '10', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-protocol_whitelist', 'file', '-y', '/videos/out.mp4']],
    ['audio-off', { output: '/videos/out.mp4', target: { kind: 'file', path: '/videos/out.mp4' }, width: 64, height: 48, fps: 25, audioIoTimeoutMs: 10000, ffmpegMajor: 6, audioFrom: '/videos/in.mp4', keepAudio: false },
      ['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'error', '-f', 'rawvideo', '-pixel_format', 'rgb24', '-video_size', '64x48', '-framerate', '25', '-protocol_whitelist', 'pipe', '-i', 'pipe:0', '-map', '0:v:0', '-c:v', 'libx264', '-crf', '10', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-protocol_whitelist', 'file', '-y', '/videos/out.mp4']],
    ['audio-rtsp-ffmpeg4', { output: '/videos/out.mp4', target: { kind: 'file', path: '/videos/out.mp4' }, width: 64, height: 48, fps: 25, audioIoTimeoutMs: 10000, ffmpegMajor: 4, audioFrom: 'rtsp://127.0.0.1:8554/cam' },
      ['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'error', '-f', 'rawvideo', '-pixel_format', 'rgb24', '-video_size', '64x48', '-framerate', '25', '-protocol_whitelist', 'pipe', '-i', 'pipe:0', '-protocol_whitelist', 'rtsp,rtsps,rtp,srtp,udp,tcp,tls', '-rtsp_transport', 'tcp', '-analyzeduration', '1000000', '-stimeout', '10000000', '-i', 'rtsp://127.0.0.1:8554/cam', '-map', '0:v:0', '-map', '1:a:0?', '-c:a', 'aac', '-shortest', '-c:v', 'libx264', '-crf', '10', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-protocol_whitelist', 'file', '-y', '/videos/out.mp4']],
    ['audio-rtsp-ffmpeg6', { output: '/videos/out.mp4', target: { kind: 'file', path: '/videos/out.mp4' }, width: 64, height: 48, fps: 25, audioIoTimeoutMs: 10000, ffmpegMajor: 6, audioFrom: 'rtsp://127.0.0.1:8554/cam' },
      ['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'error', '-f', 'rawvideo', '-pixel_format', 'rgb24', '-video_size', '64x48', '-framerate', '25', '-protocol_whitelist', 'pipe', '-i', 'pipe:0', '-protocol_whitelist', 'rtsp,rtsps,rtp,srtp,udp,tcp,tls', '-rtsp_transport', 'tcp', '-analyzeduration', '1000000', '-timeout', '10000000', '-i', 'rtsp://127.0.0.1:8554/cam', '-map', '0:v:0', '-map', '1:a:0?', '-c:a', 'aac', '-shortest', '-c:v', 'libx264', '-crf', '10', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-protocol_whitelist', 'file', '-y', '/videos/out.mp4']],
    ['audio-http', { output: '/videos/out.mp4', target: { kind: 'file', path: '/videos/out.mp4' }, width: 64, height: 48, fps: 25, audioIoTimeoutMs: 10000, ffmpegMajor: 6, audioFrom: 'http://127.0.0.1:8080/in.mp4' },
      ['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'error', '-f', 'rawvideo', '-pixel_format', 'rgb24', '-video_size', '64x48', '-framerate', '25', '-protocol_whitelist', 'pipe', '-i', 'pipe:0', '-protocol_whitelist', 'http,https,tcp,tls,crypto', '-analyzeduration', '1000000', '-rw_timeout', '10000000', '-i', 'http://127.0.0.1:8080/in.mp4', '-map', '0:v:0', '-map', '1:a:0?', '-c:a', 'aac', '-shortest', '-c:v', 'libx264', '-crf', '10', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-protocol_whitelist', 'file', '-y', '/videos/out.mp4']],
    ['audio-file-url', { output: '/videos/out.mkv', target: { kind: 'file', path: '/videos/out.mkv' }, width: 64, height: 48, fps: 25, audioIoTimeoutMs: 10000, ffmpegMajor: 6, audioFrom: 'file:///videos/in%20x.mp4' },
      ['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'error', '-f', 'rawvideo', '-pixel_format', 'rgb24', '-video_size', '64x48', '-framerate', '25', '-protocol_whitelist', 'pipe', '-i', 'pipe:0', '-protocol_whitelist', 'file', '-format_whitelist', 'mov,matroska,webm,avi,mpegts,mpeg,mpegvideo,flv,ogg,asf,nut,mxf,dv,h264,hevc,m4v,mjpeg,ivf,yuv4mpegpipe,gif,apng,wav,mp3,aac,flac', '-i', '/videos/in x.mp4', '-map', '0:v:0', '-map', '1:a:0?', '-c:a', 'aac', '-shortest', '-c:v', 'libx264', '-crf', '10', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-protocol_whitelist', 'file', '-y', '/videos/out.mkv']],
    ['hold-file-ffmpeg6', { output: '/videos/out.mp4', target: { kind: 'file', path: '/videos/out.mp4' }, width: 64, height: 48, fps: 25, audioIoTimeoutMs: 10000, ffmpegMajor: 6, timestamped: true },
      ['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'error', '-f', 'matroska', '-protocol_whitelist', 'pipe', '-i', 'pipe:0', '-map', '0:v:0', '-fps_mode', 'vfr', '-c:v', 'libx264', '-crf', '10', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-protocol_whitelist', 'file', '-y', '/videos/out.mp4']],
    ['hold-file-ffmpeg5', { output: '/videos/out.mp4', target: { kind: 'file', path: '/videos/out.mp4' }, width: 64, height: 48, fps: 25, audioIoTimeoutMs: 10000, ffmpegMajor: 5, timestamped: true, pixelFormat: 'yuv420p', matrix: 'bt709' },
      ['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'error', '-f', 'matroska', '-protocol_whitelist', 'pipe', '-i', 'pipe:0', '-map', '0:v:0', '-vsync', 'vfr', '-c:v', 'libx264', '-crf', '10', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-colorspace', 'bt709', '-protocol_whitelist', 'file', '-y', '/videos/out.mp4']],
    ['hold-no-major', { output: '/videos/out.mp4', target: { kind: 'file', path: '/videos/out.mp4' }, width: 64, height: 48, fps: 25, audioIoTimeoutMs: 10000, timestamped: true },
      ['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'error', '-f', 'matroska', '-protocol_whitelist', 'pipe', '-i', 'pipe:0', '-map', '0:v:0', '-vsync', 'vfr', '-c:v', 'libx264', '-crf', '10', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-protocol_whitelist', 'file', '-y', '/videos/out.mp4']],
    ['repeat-file', { output: '/videos/out.mp4', target: { kind: 'file', path: '/videos/out.mp4' }, width: 64, height: 48, fps: 25, audioIoTimeoutMs: 10000, ffmpegMajor: 6 },
      ['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'error', '-f', 'rawvideo', '-pixel_format', 'rgb24', '-video_size', '64x48', '-framerate', '25', '-protocol_whitelist', 'pipe', '-i', 'pipe:0', '-map', '0:v:0', '-c:v', 'libx264', '-crf', '10', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-protocol_whitelist', 'file', '-y', '/videos/out.mp4']],
    ['rtmp', { output: 'rtmp://127.0.0.1:1935/live/x', target: { kind: 'url', format: 'flv', scheme: 'rtmp' }, width: 64, height: 48, fps: 30, audioIoTimeoutMs: 10000, ffmpegMajor: 6 },
      ['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'error', '-f', 'rawvideo', '-pixel_format', 'rgb24', '-video_size', '64x48', '-framerate', '30', '-protocol_whitelist', 'pipe', '-i', 'pipe:0', '-map', '0:v:0', '-c:v', 'libx264', '-crf', '10', '-preset', 'veryfast', '-tune', 'zerolatency', '-g', '60', '-pix_fmt', 'yuv420p', '-f', 'flv', '-protocol_whitelist', 'rtmp,rtmps,tcp,tls', '-y', 'rtmp://127.0.0.1:1935/live/x']],
    ['rtmp-hold-audio', { output: 'rtmp://127.0.0.1:1935/live/x', target: { kind: 'url', format: 'flv', scheme: 'rtmp' }, width: 64, height: 48, fps: 30, audioIoTimeoutMs: 10000, ffmpegMajor: 6, timestamped: true, audioFrom: 'rtsp://127.0.0.1:8554/cam' },
      ['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'error', '-f', 'matroska', '-protocol_whitelist', 'pipe', '-i', 'pipe:0', '-protocol_whitelist', 'rtsp,rtsps,rtp,srtp,udp,tcp,tls', '-rtsp_transport', 'tcp', '-analyzeduration', '1000000', '-timeout', '10000000', '-i', 'rtsp://127.0.0.1:8554/cam', '-map', '0:v:0', '-fps_mode', 'vfr', '-map', '1:a:0?', '-c:a', 'aac', '-shortest', '-c:v', 'libx264', '-crf', '10', '-preset', 'veryfast', '-tune', 'zerolatency', '-g', '60', '-force_key_frames', 'expr:gte(t,n_forced*2)', '-pix_fmt', 'yuv420p', '-f', 'flv', '-protocol_whitelist', 'rtmp,rtmps,tcp,tls', '-y', 'rtmp://127.0.0.1:1935/live/x']],
    ['rtmps-yuv', { output: 'rtmps://127.0.0.1/live/x', target: { kind: 'url', format: 'flv', scheme: 'rtmps' }, width: 64, height: 48, fps: 25, audioIoTimeoutMs: 10000, ffmpegMajor: 6, pixelFormat: 'yuv420p', matrix: 'bt709' },
      ['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'error', '-f', 'rawvideo', '-pixel_format', 'yuv420p', '-video_size', '64x48', '-framerate', '25', '-protocol_whitelist', 'pipe', '-i', 'pipe:0', '-map', '0:v:0', '-c:v', 'libx264', '-crf', '10', '-preset', 'veryfast', '-tune', 'zerolatency', '-g', '50', '-pix_fmt', 'yuv420p', '-colorspace', 'bt709', '-f', 'flv', '-protocol_whitelist', 'rtmp,rtmps,tcp,tls', '-y', 'rtmps://127.0.0.1/live/x']],
    ['rtsp', { output: 'rtsp://127.0.0.1:8554/out', target: { kind: 'url', format: 'rtsp', scheme: 'rtsp' }, width: 64, height: 48, fps: 29.97, audioIoTimeoutMs: 10000, ffmpegMajor: 6 },
      ['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'error', '-f', 'rawvideo', '-pixel_format', 'rgb24', '-video_size', '64x48', '-framerate', '29.97', '-protocol_whitelist', 'pipe', '-i', 'pipe:0', '-map', '0:v:0', '-c:v', 'libx264', '-crf', '10', '-preset', 'veryfast', '-tune', 'zerolatency', '-g', '60', '-pix_fmt', 'yuv420p', '-rtsp_transport', 'tcp', '-f', 'rtsp', '-protocol_whitelist', 'rtsp,rtsps,rtp,srtp,udp,tcp,tls', '-y', 'rtsp://127.0.0.1:8554/out']],
    ['udp', { output: 'udp://127.0.0.1:5000', target: { kind: 'url', format: 'mpegts', scheme: 'udp' }, width: 64, height: 48, fps: 0.4, audioIoTimeoutMs: 10000, ffmpegMajor: 6 },
      ['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'error', '-f', 'rawvideo', '-pixel_format', 'rgb24', '-video_size', '64x48', '-framerate', '0.4', '-protocol_whitelist', 'pipe', '-i', 'pipe:0', '-map', '0:v:0', '-c:v', 'libx264', '-crf', '10', '-preset', 'veryfast', '-tune', 'zerolatency', '-g', '1', '-pix_fmt', 'yuv420p', '-f', 'mpegts', '-protocol_whitelist', 'udp,rtp', '-y', 'udp://127.0.0.1:5000']],
    ['tcp', { output: 'tcp://127.0.0.1:5001?listen=0', target: { kind: 'url', format: 'mpegts', scheme: 'tcp' }, width: 64, height: 48, fps: 25, audioIoTimeoutMs: 10000, ffmpegMajor: 6 },
      ['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'error', '-f', 'rawvideo', '-pixel_format', 'rgb24', '-video_size', '64x48', '-framerate', '25', '-protocol_whitelist', 'pipe', '-i', 'pipe:0', '-map', '0:v:0', '-c:v', 'libx264', '-crf', '10', '-preset', 'veryfast', '-tune', 'zerolatency', '-g', '50', '-pix_fmt', 'yuv420p', '-f', 'mpegts', '-protocol_whitelist', 'tcp', '-y', 'tcp://127.0.0.1:5001?listen=0']],
    ['srt', { output: 'srt://127.0.0.1:5002', target: { kind: 'url', format: 'mpegts', scheme: 'srt' }, width: 64, height: 48, fps: 25, audioIoTimeoutMs: 10000, ffmpegMajor: 6 },
      ['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'error', '-f', 'rawvideo', '-pixel_format', 'rgb24', '-video_size', '64x48', '-framerate', '25', '-protocol_whitelist', 'pipe', '-i', 'pipe:0', '-map', '0:v:0', '-c:v', 'libx264', '-crf', '10', '-preset', 'veryfast', '-tune', 'zerolatency', '-g', '50', '-pix_fmt', 'yuv420p', '-f', 'mpegts', '-protocol_whitelist', 'srt,udp', '-y', 'srt://127.0.0.1:5002']],
    ['url-format-override', { output: 'udp://127.0.0.1:5000', target: { kind: 'url', format: 'mpegts', scheme: 'udp' }, width: 64, height: 48, fps: 25, audioIoTimeoutMs: 10000, ffmpegMajor: 6, format: 'rtp_mpegts' },
      ['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'error', '-f', 'rawvideo', '-pixel_format', 'rgb24', '-video_size', '64x48', '-framerate', '25', '-protocol_whitelist', 'pipe', '-i', 'pipe:0', '-map', '0:v:0', '-c:v', 'libx264', '-crf', '10', '-preset', 'veryfast', '-tune', 'zerolatency', '-g', '50', '-pix_fmt', 'yuv420p', '-f', 'rtp_mpegts', '-protocol_whitelist', 'udp,rtp', '-y', 'udp://127.0.0.1:5000']],
    ['file-format-override', { output: '/videos/out.bin', target: { kind: 'file', path: '/videos/out.bin' }, width: 64, height: 48, fps: 25, audioIoTimeoutMs: 10000, ffmpegMajor: 6, format: 'matroska' },
      ['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'error', '-f', 'rawvideo', '-pixel_format', 'rgb24', '-video_size', '64x48', '-framerate', '25', '-protocol_whitelist', 'pipe', '-i', 'pipe:0', '-map', '0:v:0', '-c:v', 'libx264', '-crf', '10', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-f', 'matroska', '-protocol_whitelist', 'file', '-y', '/videos/out.bin']],
    ['codec-x265-crf-preset', { output: '/videos/out.mkv', target: { kind: 'file', path: '/videos/out.mkv' }, width: 64, height: 48, fps: 25, audioIoTimeoutMs: 10000, ffmpegMajor: 6, codec: 'libx265', crf: 23, preset: 'slow' },
      ['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'error', '-f', 'rawvideo', '-pixel_format', 'rgb24', '-video_size', '64x48', '-framerate', '25', '-protocol_whitelist', 'pipe', '-i', 'pipe:0', '-map', '0:v:0', '-c:v', 'libx265', '-crf', '23', '-preset', 'slow', '-pix_fmt', 'yuv420p', '-protocol_whitelist', 'file', '-y', '/videos/out.mkv']],
    ['codec-mpeg4-no-crf', { output: 'rtmp://127.0.0.1/live/x', target: { kind: 'url', format: 'flv', scheme: 'rtmp' }, width: 64, height: 48, fps: 25, audioIoTimeoutMs: 10000, ffmpegMajor: 6, codec: 'mpeg4' },
      ['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'error', '-f', 'rawvideo', '-pixel_format', 'rgb24', '-video_size', '64x48', '-framerate', '25', '-protocol_whitelist', 'pipe', '-i', 'pipe:0', '-map', '0:v:0', '-c:v', 'mpeg4', '-pix_fmt', 'yuv420p', '-f', 'flv', '-protocol_whitelist', 'rtmp,rtmps,tcp,tls', '-y', 'rtmp://127.0.0.1/live/x']],
    ['quality-50', { output: '/videos/out.mp4', target: { kind: 'file', path: '/videos/out.mp4' }, width: 64, height: 48, fps: 25, audioIoTimeoutMs: 10000, ffmpegMajor: 6, quality: 50 },
      ['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'error', '-f', 'rawvideo', '-pixel_format', 'rgb24', '-video_size', '64x48', '-framerate', '25', '-protocol_whitelist', 'pipe', '-i', 'pipe:0', '-map', '0:v:0', '-c:v', 'libx264', '-crf', '26', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-protocol_whitelist', 'file', '-y', '/videos/out.mp4']],
    ['crf-wins', { output: '/videos/out.mp4', target: { kind: 'file', path: '/videos/out.mp4' }, width: 64, height: 48, fps: 25, audioIoTimeoutMs: 10000, ffmpegMajor: 6, crf: 0, quality: 50 },
      ['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'error', '-f', 'rawvideo', '-pixel_format', 'rgb24', '-video_size', '64x48', '-framerate', '25', '-protocol_whitelist', 'pipe', '-i', 'pipe:0', '-map', '0:v:0', '-c:v', 'libx264', '-crf', '0', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-protocol_whitelist', 'file', '-y', '/videos/out.mp4']],
    ['fd-mp4-metadata', { output: '/videos/out.mp4', target: { kind: 'file', path: '/videos/out.mp4' }, width: 64, height: 48, fps: 25, audioIoTimeoutMs: 10000, ffmpegMajor: 6, fdOutput: { path: '/proc/self/fd/3', format: 'mp4' }, metadata: { comment: 'made by x', 'c2pa:mark': 'a=b' } },
      ['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'error', '-f', 'rawvideo', '-pixel_format', 'rgb24', '-video_size', '64x48', '-framerate', '25', '-protocol_whitelist', 'pipe', '-i', 'pipe:0', '-map', '0:v:0', '-c:v', 'libx264', '-crf', '10', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-f', 'mp4', '-metadata', 'comment=made by x', '-metadata', 'c2pa:mark=a=b', '-movflags', '+use_metadata_tags', '-protocol_whitelist', 'file', '-y', '/proc/self/fd/3']],
    ['fd-mkv-format-given', { output: '/videos/out.MKV', target: { kind: 'file', path: '/videos/out.MKV' }, width: 64, height: 48, fps: 25, audioIoTimeoutMs: 10000, ffmpegMajor: 6, fdOutput: { path: '/proc/self/fd/3', format: 'matroska' }, format: 'webm' },
      ['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'error', '-f', 'rawvideo', '-pixel_format', 'rgb24', '-video_size', '64x48', '-framerate', '25', '-protocol_whitelist', 'pipe', '-i', 'pipe:0', '-map', '0:v:0', '-c:v', 'libx264', '-crf', '10', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-f', 'webm', '-protocol_whitelist', 'file', '-y', '/proc/self/fd/3']],
    ['fd-unknown-ext', { output: '/videos/out.xyz', target: { kind: 'file', path: '/videos/out.xyz' }, width: 64, height: 48, fps: 25, audioIoTimeoutMs: 10000, ffmpegMajor: 6 },
      ['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'error', '-f', 'rawvideo', '-pixel_format', 'rgb24', '-video_size', '64x48', '-framerate', '25', '-protocol_whitelist', 'pipe', '-i', 'pipe:0', '-map', '0:v:0', '-c:v', 'libx264', '-crf', '10', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-protocol_whitelist', 'file', '-y', '/videos/out.xyz']],
    ['fd-on-url-ignored', { output: 'rtmp://127.0.0.1/live/x', target: { kind: 'url', format: 'flv', scheme: 'rtmp' }, width: 64, height: 48, fps: 25, audioIoTimeoutMs: 10000, ffmpegMajor: 6 },
      ['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'error', '-f', 'rawvideo', '-pixel_format', 'rgb24', '-video_size', '64x48', '-framerate', '25', '-protocol_whitelist', 'pipe', '-i', 'pipe:0', '-map', '0:v:0', '-c:v', 'libx264', '-crf', '10', '-preset', 'veryfast', '-tune', 'zerolatency', '-g', '50', '-pix_fmt', 'yuv420p', '-f', 'flv', '-protocol_whitelist', 'rtmp,rtmps,tcp,tls', '-y', 'rtmp://127.0.0.1/live/x']],
    ['metadata-movflags-given', { output: '/videos/out.MOV', target: { kind: 'file', path: '/videos/out.MOV' }, width: 64, height: 48, fps: 25, audioIoTimeoutMs: 10000, ffmpegMajor: 6, metadata: { a: '1' }, outputOptions: ['-movflags', '+faststart', '-tag:v', 'hvc1'] },
      ['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'error', '-f', 'rawvideo', '-pixel_format', 'rgb24', '-video_size', '64x48', '-framerate', '25', '-protocol_whitelist', 'pipe', '-i', 'pipe:0', '-map', '0:v:0', '-c:v', 'libx264', '-crf', '10', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-metadata', 'a=1', '-movflags', '+faststart+use_metadata_tags', '-tag:v', 'hvc1', '-protocol_whitelist', 'file', '-y', '/videos/out.MOV']],
    ['metadata-mkv', { output: '/videos/out.mkv', target: { kind: 'file', path: '/videos/out.mkv' }, width: 64, height: 48, fps: 25, audioIoTimeoutMs: 10000, ffmpegMajor: 6, metadata: { a: '1' }, outputOptions: ['-movflags', '+faststart'] },
      ['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'error', '-f', 'rawvideo', '-pixel_format', 'rgb24', '-video_size', '64x48', '-framerate', '25', '-protocol_whitelist', 'pipe', '-i', 'pipe:0', '-map', '0:v:0', '-c:v', 'libx264', '-crf', '10', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-metadata', 'a=1', '-movflags', '+faststart', '-protocol_whitelist', 'file', '-y', '/videos/out.mkv']],
    ['metadata-url', { output: 'rtmp://127.0.0.1/live/x', target: { kind: 'url', format: 'flv', scheme: 'rtmp' }, width: 64, height: 48, fps: 25, audioIoTimeoutMs: 10000, ffmpegMajor: 6, metadata: { a: '1' } },
      ['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'error', '-f', 'rawvideo', '-pixel_format', 'rgb24', '-video_size', '64x48', '-framerate', '25', '-protocol_whitelist', 'pipe', '-i', 'pipe:0', '-map', '0:v:0', '-c:v', 'libx264', '-crf', '10', '-preset', 'veryfast', '-tune', 'zerolatency', '-g', '50', '-pix_fmt', 'yuv420p', '-f', 'flv', '-metadata', 'a=1', '-protocol_whitelist', 'rtmp,rtmps,tcp,tls', '-y', 'rtmp://127.0.0.1/live/x']],
    ['metadata-empty', { output: '/videos/out.mp4', target: { kind: 'file', path: '/videos/out.mp4' }, width: 64, height: 48, fps: 25, audioIoTimeoutMs: 10000, ffmpegMajor: 6, metadata: {  }, outputOptions: ['-b:v', '1M'] },
      ['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'error', '-f', 'rawvideo', '-pixel_format', 'rgb24', '-video_size', '64x48', '-framerate', '25', '-protocol_whitelist', 'pipe', '-i', 'pipe:0', '-map', '0:v:0', '-c:v', 'libx264', '-crf', '10', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-b:v', '1M', '-protocol_whitelist', 'file', '-y', '/videos/out.mp4']],
    ['relative-file', { output: 'out.mp4', target: { kind: 'file', path: 'out.mp4' }, width: 64, height: 48, fps: 25, audioIoTimeoutMs: 10000, ffmpegMajor: 6 },
      ['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'error', '-f', 'rawvideo', '-pixel_format', 'rgb24', '-video_size', '64x48', '-framerate', '25', '-protocol_whitelist', 'pipe', '-i', 'pipe:0', '-map', '0:v:0', '-c:v', 'libx264', '-crf', '10', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-protocol_whitelist', 'file', '-y', 'out.mp4']],
    ];
    for (const [name, options, expected] of cases) {
      it(name, function () {
        assert.deepStrictEqual(encoderArgs(options), expected);
      });
    }
  });

  describe('decoder: a file, stream or device to raw frames on stdout', function () {
    const cases = [
    ['file', { source: { input: '/videos/in.mp4', kind: 'file', live: false }, ioTimeoutMs: 10000, ffmpegMajor: 6 },
      ['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'info', '-protocol_whitelist', 'file', '-format_whitelist', 'mov,matroska,webm,avi,mpegts,mpeg,mpegvideo,flv,ogg,asf,nut,mxf,dv,h264,hevc,m4v,mjpeg,ivf,yuv4mpegpipe,gif,apng,wav,mp3,aac,flac', '-i', '/videos/in.mp4', '-map', '0:v:0', '-an', '-sn', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-protocol_whitelist', 'pipe', 'pipe:1']],
    ['file-scaled-yuv', { source: { input: '/videos/in.mp4', kind: 'file', live: false }, ioTimeoutMs: 10000, ffmpegMajor: 6, scale: { width: 320, height: 240 }, pixelFormat: 'yuv420p' },
      ['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'info', '-protocol_whitelist', 'file', '-format_whitelist', 'mov,matroska,webm,avi,mpegts,mpeg,mpegvideo,flv,ogg,asf,nut,mxf,dv,h264,hevc,m4v,mjpeg,ivf,yuv4mpegpipe,gif,apng,wav,mp3,aac,flac', '-i', '/videos/in.mp4', '-map', '0:v:0', '-an', '-sn', '-vf', 'scale=320:240', '-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-protocol_whitelist', 'pipe', 'pipe:1']],
    ['file-url', { source: { input: '/videos/in x.mp4', kind: 'file', live: false }, ioTimeoutMs: 10000, ffmpegMajor: 6 },
      ['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'info', '-protocol_whitelist', 'file', '-format_whitelist', 'mov,matroska,webm,avi,mpegts,mpeg,mpegvideo,flv,ogg,asf,nut,mxf,dv,h264,hevc,m4v,mjpeg,ivf,yuv4mpegpipe,gif,apng,wav,mp3,aac,flac', '-i', '/videos/in x.mp4', '-map', '0:v:0', '-an', '-sn', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-protocol_whitelist', 'pipe', 'pipe:1']],
    ['file-stream-known-not-live', { source: { input: '/videos/in.mp4', kind: 'file', live: false }, ioTimeoutMs: 10000, ffmpegMajor: 6 },
      ['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'info', '-protocol_whitelist', 'file', '-format_whitelist', 'mov,matroska,webm,avi,mpegts,mpeg,mpegvideo,flv,ogg,asf,nut,mxf,dv,h264,hevc,m4v,mjpeg,ivf,yuv4mpegpipe,gif,apng,wav,mp3,aac,flac', '-i', '/videos/in.mp4', '-map', '0:v:0', '-an', '-sn', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-protocol_whitelist', 'pipe', 'pipe:1']],
    ['rtsp-ffmpeg6', { source: { input: 'rtsp://user:pw@127.0.0.1:8554/cam', kind: 'url', live: true, scheme: 'rtsp' }, ioTimeoutMs: 10000, ffmpegMajor: 6 },
      ['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'info', '-protocol_whitelist', 'rtsp,rtsps,rtp,srtp,udp,tcp,tls', '-rtsp_transport', 'tcp', '-analyzeduration', '1000000', '-timeout', '10000000', '-i', 'rtsp://user:pw@127.0.0.1:8554/cam', '-map', '0:v:0', '-an', '-sn', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-protocol_whitelist', 'pipe', 'pipe:1']],
    ['rtsp-ffmpeg4', { source: { input: 'rtsp://127.0.0.1:8554/cam', kind: 'url', live: true, scheme: 'rtsp' }, ioTimeoutMs: 10000, ffmpegMajor: 4 },
      ['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'info', '-protocol_whitelist', 'rtsp,rtsps,rtp,srtp,udp,tcp,tls', '-rtsp_transport', 'tcp', '-analyzeduration', '1000000', '-stimeout', '10000000', '-i', 'rtsp://127.0.0.1:8554/cam', '-map', '0:v:0', '-an', '-sn', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-protocol_whitelist', 'pipe', 'pipe:1']],
    ['rtsp-no-major', { source: { input: 'rtsp://127.0.0.1:8554/cam', kind: 'url', live: true, scheme: 'rtsp' }, ioTimeoutMs: 10000 },
      ['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'info', '-protocol_whitelist', 'rtsp,rtsps,rtp,srtp,udp,tcp,tls', '-rtsp_transport', 'tcp', '-analyzeduration', '1000000', '-i', 'rtsp://127.0.0.1:8554/cam', '-map', '0:v:0', '-an', '-sn', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-protocol_whitelist', 'pipe', 'pipe:1']],
    ['rtsps-timeouts', { source: { input: 'rtsps://127.0.0.1:8322/cam', kind: 'url', live: true, scheme: 'rtsps' }, ioTimeoutMs: 3000, ffmpegMajor: 6, analyzeMs: 500 },
      ['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'info', '-protocol_whitelist', 'rtsp,rtsps,rtp,srtp,udp,tcp,tls', '-rtsp_transport', 'tcp', '-analyzeduration', '500000', '-timeout', '3000000', '-i', 'rtsps://127.0.0.1:8322/cam', '-map', '0:v:0', '-an', '-sn', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-protocol_whitelist', 'pipe', 'pipe:1']],
    ['rtsp-reconnect', { source: { input: 'rtsp://127.0.0.1:8554/cam', kind: 'url', live: true, scheme: 'rtsp' }, ioTimeoutMs: 10000, ffmpegMajor: 6, scale: { width: 640, height: 360 }, fps: 29.97002997002997 },
      ['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'info', '-protocol_whitelist', 'rtsp,rtsps,rtp,srtp,udp,tcp,tls', '-rtsp_transport', 'tcp', '-analyzeduration', '1000000', '-timeout', '10000000', '-i', 'rtsp://127.0.0.1:8554/cam', '-map', '0:v:0', '-an', '-sn', '-vf', 'scale=640:360', '-r', '29.97002997002997', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-protocol_whitelist', 'pipe', 'pipe:1']],
    ['rtsp-reconnect-scaled', { source: { input: 'rtsp://127.0.0.1:8554/cam', kind: 'url', live: true, scheme: 'rtsp' }, ioTimeoutMs: 10000, ffmpegMajor: 6, scale: { width: 320, height: 180 }, fps: 30 },
      ['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'info', '-protocol_whitelist', 'rtsp,rtsps,rtp,srtp,udp,tcp,tls', '-rtsp_transport', 'tcp', '-analyzeduration', '1000000', '-timeout', '10000000', '-i', 'rtsp://127.0.0.1:8554/cam', '-map', '0:v:0', '-an', '-sn', '-vf', 'scale=320:180', '-r', '30', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-protocol_whitelist', 'pipe', 'pipe:1']],
    ['rtsp-not-live', { source: { input: 'rtsp://127.0.0.1:8554/cam', kind: 'url', live: true, scheme: 'rtsp' }, ioTimeoutMs: 10000, ffmpegMajor: 6 },
      ['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'info', '-protocol_whitelist', 'rtsp,rtsps,rtp,srtp,udp,tcp,tls', '-rtsp_transport', 'tcp', '-analyzeduration', '1000000', '-timeout', '10000000', '-i', 'rtsp://127.0.0.1:8554/cam', '-map', '0:v:0', '-an', '-sn', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-protocol_whitelist', 'pipe', 'pipe:1']],
    ['rtmp', { source: { input: 'rtmp://127.0.0.1:1935/live/x', kind: 'url', live: true, scheme: 'rtmp' }, ioTimeoutMs: 10000, ffmpegMajor: 6 },
      ['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'info', '-protocol_whitelist', 'rtmp,rtmps,tcp,tls', '-analyzeduration', '1000000', '-rw_timeout', '10000000', '-i', 'rtmp://127.0.0.1:1935/live/x', '-map', '0:v:0', '-an', '-sn', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-protocol_whitelist', 'pipe', 'pipe:1']],
    ['http', { source: { input: 'http://127.0.0.1:8080/x.m3u8', kind: 'url', live: true, scheme: 'http' }, ioTimeoutMs: 10000, ffmpegMajor: 6 },
      ['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'info', '-protocol_whitelist', 'http,https,tcp,tls,crypto', '-analyzeduration', '1000000', '-rw_timeout', '10000000', '-i', 'http://127.0.0.1:8080/x.m3u8', '-map', '0:v:0', '-an', '-sn', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-protocol_whitelist', 'pipe', 'pipe:1']],
    ['https-guarded', { source: { input: 'https://127.0.0.1:8443/x.m3u8', kind: 'url', live: true, scheme: 'https' }, ioTimeoutMs: 10000, ffmpegMajor: 6, guard: { proxy: 'http://127.0.0.1:39999' } },
      ['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'info', '-protocol_whitelist', 'http,https,tcp,tls,crypto,httpproxy', '-http_proxy', 'http://127.0.0.1:39999', '-analyzeduration', '1000000', '-rw_timeout', '10000000', '-i', 'https://127.0.0.1:8443/x.m3u8', '-map', '0:v:0', '-an', '-sn', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-protocol_whitelist', 'pipe', 'pipe:1']],
    ['rtmp-guard-ignored', { source: { input: 'rtmp://127.0.0.1:1935/live/x', kind: 'url', live: true, scheme: 'rtmp' }, ioTimeoutMs: 10000, ffmpegMajor: 6, guard: { proxy: 'http://127.0.0.1:39999' } },
      ['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'info', '-protocol_whitelist', 'rtmp,rtmps,tcp,tls', '-analyzeduration', '1000000', '-rw_timeout', '10000000', '-i', 'rtmp://127.0.0.1:1935/live/x', '-map', '0:v:0', '-an', '-sn', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-protocol_whitelist', 'pipe', 'pipe:1']],
    ['udp', { source: { input: 'udp://127.0.0.1:5000', kind: 'url', live: true, scheme: 'udp' }, ioTimeoutMs: 0, ffmpegMajor: 6 },
      ['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'info', '-protocol_whitelist', 'udp,rtp', '-analyzeduration', '1000000', '-rw_timeout', '1', '-i', 'udp://127.0.0.1:5000', '-map', '0:v:0', '-an', '-sn', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-protocol_whitelist', 'pipe', 'pipe:1']],
    ['tcp', { source: { input: 'tcp://127.0.0.1:5001', kind: 'url', live: true, scheme: 'tcp' }, ioTimeoutMs: 10000, ffmpegMajor: 6 },
      ['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'info', '-protocol_whitelist', 'tcp', '-analyzeduration', '1000000', '-rw_timeout', '10000000', '-i', 'tcp://127.0.0.1:5001', '-map', '0:v:0', '-an', '-sn', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-protocol_whitelist', 'pipe', 'pipe:1']],
    ['srt', { source: { input: 'srt://127.0.0.1:5002', kind: 'url', live: true, scheme: 'srt' }, ioTimeoutMs: 10000, ffmpegMajor: 6, pixelFormat: 'yuv420p' },
      ['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'info', '-protocol_whitelist', 'srt,udp', '-analyzeduration', '1000000', '-rw_timeout', '10000000', '-i', 'srt://127.0.0.1:5002', '-map', '0:v:0', '-an', '-sn', '-f', 'rawvideo', '-pix_fmt', 'yuv420p', '-protocol_whitelist', 'pipe', 'pipe:1']],
    ['device', { source: { input: '/dev/video0', kind: 'device', live: true }, ioTimeoutMs: 10000, ffmpegMajor: 6, inputOptions: ['-framerate', '30', '-video_size', '640x480'] },
      ['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'info', '-f', 'v4l2', '-analyzeduration', '1000000', '-framerate', '30', '-video_size', '640x480', '-i', '/dev/video0', '-map', '0:v:0', '-an', '-sn', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-protocol_whitelist', 'pipe', 'pipe:1']],
    ['device-reconnect', { source: { input: '/dev/video2', kind: 'device', live: true }, ioTimeoutMs: 10000, ffmpegMajor: 6, scale: { width: 640, height: 480 }, fps: 30 },
      ['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'info', '-f', 'v4l2', '-analyzeduration', '1000000', '-i', '/dev/video2', '-map', '0:v:0', '-an', '-sn', '-vf', 'scale=640:480', '-r', '30', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-protocol_whitelist', 'pipe', 'pipe:1']],
    ['file-input-options', { source: { input: '/videos/in.mp4', kind: 'file', live: false }, ioTimeoutMs: 10000, ffmpegMajor: 6, inputOptions: ['-ss', '1'] },
      ['-hide_banner', '-nostdin', '-nostats', '-loglevel', 'info', '-protocol_whitelist', 'file', '-format_whitelist', 'mov,matroska,webm,avi,mpegts,mpeg,mpegvideo,flv,ogg,asf,nut,mxf,dv,h264,hevc,m4v,mjpeg,ivf,yuv4mpegpipe,gif,apng,wav,mp3,aac,flac', '-ss', '1', '-i', '/videos/in.mp4', '-map', '0:v:0', '-an', '-sn', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-protocol_whitelist', 'pipe', 'pipe:1']],
    ];
    for (const [name, options, expected] of cases) {
      it(name, function () {
        assert.deepStrictEqual(decoderArgs(options), expected);
      });
    }
  });

  describe('probe: the dump run and the frame count', function () {
    const cases = [
    ['file', { input: '/videos/in.mp4', kind: 'file', live: false }, 20000, 6,
      ['-hide_banner', '-nostdin', '-protocol_whitelist', 'file', '-format_whitelist', 'mov,matroska,webm,avi,mpegts,mpeg,mpegvideo,flv,ogg,asf,nut,mxf,dv,h264,hevc,m4v,mjpeg,ivf,yuv4mpegpipe,gif,apng,wav,mp3,aac,flac', '-i', '/videos/in.mp4']],
    ['file-count', { input: '/videos/in.mp4', kind: 'file', live: false }, 5000, 6,
      ['-hide_banner', '-nostdin', '-protocol_whitelist', 'file', '-format_whitelist', 'mov,matroska,webm,avi,mpegts,mpeg,mpegvideo,flv,ogg,asf,nut,mxf,dv,h264,hevc,m4v,mjpeg,ivf,yuv4mpegpipe,gif,apng,wav,mp3,aac,flac', '-i', '/videos/in.mp4'],
      ['-nostdin', '-protocol_whitelist', 'file', '-format_whitelist', 'mov,matroska,webm,avi,mpegts,mpeg,mpegvideo,flv,ogg,asf,nut,mxf,dv,h264,hevc,m4v,mjpeg,ivf,yuv4mpegpipe,gif,apng,wav,mp3,aac,flac', '-i', '/videos/in.mp4', '-map', '0:v:0', '-r', '25', '-f', 'null', '-']],
    ['rtsp-ffmpeg6', { input: 'rtsp://127.0.0.1:1/cam', kind: 'url', live: true, scheme: 'rtsp' }, 20000, 6,
      ['-hide_banner', '-nostdin', '-protocol_whitelist', 'rtsp,rtsps,rtp,srtp,udp,tcp,tls', '-rtsp_transport', 'tcp', '-analyzeduration', '1000000', '-timeout', '20000000', '-i', 'rtsp://127.0.0.1:1/cam']],
    ['rtsp-ffmpeg4', { input: 'rtsp://127.0.0.1:1/cam', kind: 'url', live: true, scheme: 'rtsp' }, 20000, 4,
      ['-hide_banner', '-nostdin', '-protocol_whitelist', 'rtsp,rtsps,rtp,srtp,udp,tcp,tls', '-rtsp_transport', 'tcp', '-analyzeduration', '1000000', '-stimeout', '20000000', '-i', 'rtsp://127.0.0.1:1/cam']],
    ['http', { input: 'http://127.0.0.1:1/x.mp4', kind: 'url', live: true, scheme: 'http' }, 3000, 6,
      ['-hide_banner', '-nostdin', '-protocol_whitelist', 'http,https,tcp,tls,crypto', '-analyzeduration', '1000000', '-rw_timeout', '3000000', '-i', 'http://127.0.0.1:1/x.mp4']],
    ];
    for (const [name, source, timeoutMs, major, expected, count] of cases) {
      it(name, function () {
        assert.deepStrictEqual(probeArgs(source, timeoutMs, major), expected);
        if (count) assert.deepStrictEqual(countFramesArgs(source, timeoutMs, major, 25), count);
      });
    }
  });

  describe('parts', function () {
    it('the sources the cases spell out are what classifySource makes of their inputs', function () {
      assert.deepStrictEqual({ ...classifySource('file:///videos/in%20x.mp4') }, { input: '/videos/in x.mp4', kind: 'file', live: false });
      assert.deepStrictEqual({ ...classifySource('/dev/video0') }, { input: '/dev/video0', kind: 'device', live: true });
      assert.deepStrictEqual({ ...classifySource('RTSP://127.0.0.1/cam') }, { input: 'RTSP://127.0.0.1/cam', kind: 'url', live: true, scheme: 'rtsp' });
    });

    it('outputTarget: a stream URL by its scheme, a file by anything else, an unknown scheme refused', function () {
      assert.deepStrictEqual(outputTarget('RTMPS://h/live/x'), { kind: 'url', format: 'flv', scheme: 'rtmps' });
      assert.deepStrictEqual(outputTarget('srt://h:1'), { kind: 'url', format: 'mpegts', scheme: 'srt' });
      assert.deepStrictEqual(outputTarget('C:/videos/out.mp4'), { kind: 'file', path: 'C:/videos/out.mp4' });
      assert.deepStrictEqual(outputTarget('ftp://h/out.mp4'), { kind: 'unsupported' });
    });

    it('fdOutputFor: the container from the extension, nothing without a descriptor path or a known container', function () {
      assert.deepStrictEqual(fdOutputFor('/videos/a.M4V', '/proc/self/fd/3'), { path: '/proc/self/fd/3', format: 'mp4' });
      assert.deepStrictEqual(fdOutputFor('/videos/a.ts', '/proc/self/fd/3'), { path: '/proc/self/fd/3', format: 'mpegts' });
      assert.strictEqual(fdOutputFor('/videos/a.mp4', undefined), undefined);
      assert.strictEqual(fdOutputFor('/videos/a.gif', '/proc/self/fd/3'), undefined);
    });

    it('x264Args: CRF from quality (80 → 10) unless given, veryfast unless given', function () {
      assert.deepStrictEqual(x264Args({}), ['-crf', '10', '-preset', 'veryfast']);
      assert.deepStrictEqual(x264Args({ quality: 0, preset: 'medium' }), ['-crf', '51', '-preset', 'medium']);
      assert.deepStrictEqual(x264Args({ quality: 0, crf: 18 }), ['-crf', '18', '-preset', 'veryfast']);
    });

    it('colourTagArgs: BT.709 tagged on YUV input only', function () {
      assert.deepStrictEqual(colourTagArgs('yuv420p', 'bt709'), ['-colorspace', 'bt709']);
      assert.deepStrictEqual(colourTagArgs('yuv420p', undefined), []);
      assert.deepStrictEqual(colourTagArgs('rgb24', 'bt709'), []);
      assert.deepStrictEqual(colourTagArgs(undefined, 'bt709'), []);
    });

    it('outputWhitelist: each output opens its own protocol only', function () {
      assert.deepStrictEqual(outputWhitelist('pipe:1'), ['-protocol_whitelist', 'pipe']);
      assert.deepStrictEqual(outputWhitelist('-'), ['-protocol_whitelist', 'pipe']);
      assert.deepStrictEqual(outputWhitelist('/proc/self/fd/3'), ['-protocol_whitelist', 'file']);
      assert.deepStrictEqual(outputWhitelist('rtsp://h/x'), ['-protocol_whitelist', 'rtsp,rtsps,rtp,srtp,udp,tcp,tls']);
      assert.throws(() => outputWhitelist('concat:a|b'), (e) => e.code === 'E_UNSUPPORTED_SOURCE');
    });

    it('fpsArg and qualityToCrf', function () {
      assert.deepStrictEqual([24000 / 1001, 30000 / 1001, 60000 / 1001, 25, 12.5, 1 / 3].map(fpsArg), ['24000/1001', '30000/1001', '60000/1001', '25', '12.5', '0.333']);
      assert.deepStrictEqual([0, 50, 80, 100, -5, 120].map(qualityToCrf), [51, 26, 10, 0, 51, 0]);
    });
  });
});
