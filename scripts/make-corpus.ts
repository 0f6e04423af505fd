/**
 * Writes data/text/tiny-corpus.txt: a deterministic, machine-generated English text (a small
 * phrase grammar sampled with the seeded Rng) that the tiny language model is trained on. The
 * grammar and its output are written for Heist and dedicated to the public domain (CC0 1.0); see
 * data/text/README.md. Same seed, same bytes.
 *   node --import tsx scripts/make-corpus.ts [--bytes 40000] [--seed 1]
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRng, type Rng } from '../src/core/rng.js';
import { repoRoot } from '../src/datasets/paths.js';

const W = {
  who: [
    'the miller',
    'a young fox',
    'the old ferryman',
    'my grandmother',
    'the baker',
    'a grey heron',
    'the shepherd',
    'the lighthouse keeper',
    'a tired traveller',
    'the village clerk',
    'the blacksmith',
    'a small girl',
    'the fisherman',
    'an honest farmer',
  ],
  verb: [
    'watched',
    'carried',
    'found',
    'mended',
    'counted',
    'painted',
    'followed',
    'remembered',
    'sold',
    'lost',
    'opened',
    'described',
  ],
  thing: [
    'the red boat',
    'a basket of apples',
    'the broken gate',
    'seven silver coins',
    'the river stones',
    'a letter from the city',
    'the winter coat',
    'the wooden bridge',
    'a lantern',
    'the oldest map',
    'three brown hens',
    'the garden wall',
  ],
  place: [
    'by the river',
    'near the mill',
    'on the hill',
    'in the market',
    'under the oak tree',
    'at the harbour',
    'behind the church',
    'along the north road',
    'in the orchard',
    'beside the well',
  ],
  time: [
    'In the morning',
    'At noon',
    'Late in the evening',
    'Before the rain',
    'On a cold day',
    'When the bells rang',
    'After supper',
    'In early spring',
    'Once upon a time',
    'Every Sunday',
  ],
  adj: ['quiet', 'bright', 'cold', 'gentle', 'heavy', 'strange', 'warm', 'narrow', 'patient', 'cheerful'],
  noun: ['wind', 'sea', 'road', 'morning', 'fire', 'snow', 'harvest', 'song', 'house', 'clock'],
  say: ['said', 'asked', 'whispered', 'answered', 'called out'],
  quote: [
    'Where does this road go?',
    'We shall be home before dark.',
    'Count them again, slowly.',
    'The tide is turning.',
    'Nothing is lost that can be mended.',
    'Who left the gate open?',
    'Bring the lantern, please.',
    'It will snow tonight.',
  ],
};

const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[rng.int(xs.length)];
const cap = (s: string): string => s[0].toUpperCase() + s.slice(1);

function sentence(rng: Rng): string {
  switch (rng.int(6)) {
    case 0:
      return `${pick(rng, W.time)}, ${pick(rng, W.who)} ${pick(rng, W.verb)} ${pick(rng, W.thing)} ${pick(rng, W.place)}.`;
    case 1:
      return `"${pick(rng, W.quote)}" ${pick(rng, W.say)} ${pick(rng, W.who)}.`;
    case 2:
      return `The ${pick(rng, W.noun)} was ${pick(rng, W.adj)} and the ${pick(rng, W.noun)} was ${pick(rng, W.adj)}.`;
    case 3:
      return `${cap(pick(rng, W.who))} ${pick(rng, W.verb)} ${pick(rng, W.thing)}, and then ${pick(rng, W.who)} ${pick(rng, W.verb)} ${pick(rng, W.thing)}.`;
    case 4:
      return `There were ${2 + rng.int(18)} ${pick(rng, ['boats', 'sheep', 'lamps', 'letters', 'trees', 'coins'])} ${pick(rng, W.place)}, and ${pick(rng, W.who)} ${pick(rng, W.verb)} them all.`;
    default:
      return `${cap(pick(rng, W.thing))} lay ${pick(rng, W.place)} for ${1 + rng.int(12)} ${pick(rng, ['days', 'years', 'hours', 'weeks'])}.`;
  }
}

export function makeCorpus(bytes: number, seed: number): string {
  const rng = createRng(seed);
  const paras: string[] = [];
  let size = 0;
  while (size < bytes) {
    const p = Array.from({ length: 3 + rng.int(4) }, () => sentence(rng)).join(' ');
    paras.push(p);
    size += p.length + 2;
  }
  return `${paras.join('\n\n')}\n`;
}

const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};

if (import.meta.url === `file://${process.argv[1]}`) {
  const text = makeCorpus(arg('bytes', 40_000), arg('seed', 1));
  const out = join(repoRoot, 'data', 'text', 'tiny-corpus.txt');
  writeFileSync(out, text);
  process.stdout.write(`wrote ${out} (${Buffer.byteLength(text)} bytes)\n`);
}
