'use strict';
// What face match's similarity figures are with the default embedder (fr_feature, 512-d): the
// cosine of the same person in two different photos, and of two different people. The help
// text of face-match quotes these numbers. Run: npm run build && node bench/match-similarity.js
const path = require('path');
const { createRuntime } = require('../dist/runtime');
const { matchFaces } = require('../dist/runtime/internal');
const { MEDIA, saveResults } = require('./lib');

async function faces(rt, file) {
  const token = await rt.run(await rt.createToken({ target: path.join(MEDIA, file), operations: ['detect', 'landmark', 'embed'] }));
  rt.release(token);
  if (token.state === 'failed') throw new Error(`${file}: ${token.error.message}`);
  return token.faces;
}

(async () => {
  const rt = createRuntime({ sweepIntervalMs: 0 });
  try {
    const obama = (await faces(rt, 'fr_obama.jpg'))[0];
    const biden = (await faces(rt, 'fr_biden.jpg'))[0];
    const pair = await faces(rt, 'fr_two_people.jpg'); // Obama and Biden in one other photo
    const sim = (faceList, ref) => matchFaces(faceList, { embedding: ref.embedding }, 0.5).map((m) => m.similarity);
    const obamaVsPair = sim(pair, obama);
    const bidenVsPair = sim(pair, biden);
    // Which face of the pair is whom: the assignment with the larger total similarity.
    const straight = obamaVsPair[0] + bidenVsPair[1];
    const crossed = obamaVsPair[1] + bidenVsPair[0];
    const [o, b] = straight >= crossed ? [0, 1] : [1, 0];
    const rows = {
      'same person (Obama, two photos)': obamaVsPair[o],
      'same person (Biden, two photos)': bidenVsPair[b],
      'different people (Obama vs Biden in the pair photo)': obamaVsPair[b],
      'different people (Biden vs Obama in the pair photo)': bidenVsPair[o],
      'different people (fr_obama.jpg vs fr_biden.jpg)': sim([biden], obama)[0],
    };
    for (const [what, value] of Object.entries(rows)) console.log(`${what.padEnd(55)} ${value.toFixed(3)}`);
    saveResults('matchSimilarity', { embedder: obama.embedding_model || 'default', ...rows });
  } finally {
    await rt.close();
  }
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
