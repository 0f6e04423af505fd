/**
 * @file The data sets Heist ships (see data/README.md), by name. Each loader returns inputs scaled
 * to [0, 1] with integer labels. Loaded sets are memoised: they are read-only.
 */
import { join } from 'node:path';
import type { Dataset } from '../core/dataset.js';
import { HeistError } from '../core/errors.js';
import { readCsv } from './csv.js';
import { readIdx } from './idx.js';
import { dataDir } from './paths.js';

/** An MNIST-layout pair of IDX files (images and labels), pixels / 255, as NHWC with one channel. */
function loadIdxImages(name: string, images: string, labels: string, classNames?: readonly string[]): Dataset {
  const img = readIdx(join(dataDir, images));
  const lab = readIdx(join(dataDir, labels));
  const [n, h, w] = img.shape;
  if (lab.shape[0] !== n) throw new HeistError('HEIST_ERR_BAD_DATA', `${name}: ${n} images but ${lab.shape[0]} labels`);
  const x = new Float32Array(img.data.length);
  for (let i = 0; i < x.length; i++) x[i] = img.data[i] / 255;
  return { name, x: { data: x, shape: [n, h, w, 1] }, y: Int32Array.from(lab.data), classes: 10, classNames };
}

const loadMnist = (): Dataset =>
  loadIdxImages('mnist', 'mnist/t10k-images-idx3-ubyte.gz', 'mnist/t10k-labels-idx1-ubyte.gz');

const fashionClasses = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
] as const;

/** Fashion-MNIST's 10,000 test images (the name mirrors `mnist`, which is MNIST's test set). */
const loadFashionMnist = (): Dataset =>
  loadIdxImages(
    'fashion-mnist',
    'fashion-mnist/t10k-images-idx3-ubyte.gz',
    'fashion-mnist/t10k-labels-idx1-ubyte.gz',
    fashionClasses,
  );

/** Fashion-MNIST's 60,000 training images. */
const loadFashionMnistTrain = (): Dataset =>
  loadIdxImages(
    'fashion-mnist-train',
    'fashion-mnist/train-images-idx3-ubyte.gz',
    'fashion-mnist/train-labels-idx1-ubyte.gz',
    fashionClasses,
  );

function loadDigits(): Dataset {
  const t = readCsv(join(dataDir, 'sklearn-small/digits.csv.gz'), { header: false });
  const x = Float32Array.from(t.x, (v) => v / 16);
  return { name: 'digits', x: { data: x, shape: [t.rows, t.features] }, y: t.y, classes: 10 };
}

/** Per-feature min-max scaling over the whole file (documented in data/README.md). */
function loadBreastCancer(): Dataset {
  const t = readCsv(join(dataDir, 'sklearn-small/breast_cancer.csv'), { header: true });
  const x = new Float32Array(t.x.length);
  for (let j = 0; j < t.features; j++) {
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < t.rows; i++) {
      lo = Math.min(lo, t.x[i * t.features + j]);
      hi = Math.max(hi, t.x[i * t.features + j]);
    }
    const span = hi > lo ? hi - lo : 1;
    for (let i = 0; i < t.rows; i++) x[i * t.features + j] = (t.x[i * t.features + j] - lo) / span;
  }
  return {
    name: 'breast-cancer',
    x: { data: x, shape: [t.rows, t.features] },
    y: t.y,
    classes: 2,
    classNames: t.header?.slice(2),
  };
}

export const datasets = {
  mnist: loadMnist,
  'fashion-mnist': loadFashionMnist,
  'fashion-mnist-train': loadFashionMnistTrain,
  digits: loadDigits,
  'breast-cancer': loadBreastCancer,
} as const;
export type DatasetName = keyof typeof datasets;
export const datasetNames = Object.keys(datasets) as DatasetName[];

const loaded = new Map<DatasetName, Dataset>();

export function loadDataset(name: string): Dataset {
  if (!(name in datasets)) {
    throw new HeistError('HEIST_ERR_BAD_CONFIG', `unknown data set "${name}"; known: ${datasetNames.join(', ')}`);
  }
  const key = name as DatasetName;
  let ds = loaded.get(key);
  if (!ds) {
    ds = datasets[key]();
    loaded.set(key, ds);
  }
  return ds;
}
