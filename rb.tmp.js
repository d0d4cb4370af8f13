const Y = require('./dist/runtime/vision/yuv');
const yuv = Y.createYuvFrame(1280, 720); for (let i = 0; i < yuv.data.length; i++) yuv.data[i] = (i * 7) & 255;
for (let k = 0; k < 3; k++) { let t = performance.now(); for (let i = 0; i < 100; i++) Y.resizeYuvToRgb(yuv, 320, 240); console.log('resize ms', ((performance.now() - t) / 100).toFixed(3)); }
const rgb = Y.yuvToRgb(yuv); let t = performance.now(); for (let i = 0; i < 100; i++) require('./dist/runtime/vision/resize').resizeBilinear(rgb, 320, 240); console.log('rgb resizeBilinear ms', ((performance.now() - t) / 100).toFixed(3));
