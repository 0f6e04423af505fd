/**
 * @file Data sets as Heist sees them: a Tensor of inputs (already scaled to the model's domain)
 * with optional integer labels.
 */
import { type Tensor, rowCount, takeRows } from './tensor.js';

export interface Dataset {
  readonly name: string;
  readonly x: Tensor;
  /** Integer class per row, when known. */
  readonly y?: Int32Array;
  readonly classes: number;
  readonly classNames?: readonly string[];
}

export function subset(ds: Dataset, indices: ArrayLike<number>, name = ds.name): Dataset {
  const y = ds.y ? Int32Array.from(Array.from(indices, (i) => ds.y![i])) : undefined;
  return { ...ds, name, x: takeRows(ds.x, indices), y };
}

export function size(ds: Dataset): number {
  return rowCount(ds.x);
}
