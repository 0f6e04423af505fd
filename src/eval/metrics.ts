/**
 * @file Extraction metrics. Fidelity: top-1 agreement between substitute and target on the same
 * inputs (Jagielski et al. 2020 call it "fidelity"; Tramèr et al. 2016 "1 - R_test"). Accuracy: the
 * substitute's top-1 accuracy on true labels.
 * @see M. Jagielski et al., "High Accuracy and High Fidelity Extraction of Neural Networks", USENIX Security 2020, arXiv:1909.01838.
 */
import { HeistError } from '../core/errors.js';

export function agreement(a: Int32Array, b: Int32Array): number {
  if (a.length !== b.length || a.length === 0) {
    throw new HeistError(
      'HEIST_ERR_SHAPE',
      `agreement needs two non-empty label lists of equal length (${a.length} vs ${b.length})`,
    );
  }
  let same = 0;
  for (let i = 0; i < a.length; i++) if (a[i] === b[i]) same++;
  return same / a.length;
}

/** Agreement of the substitute's labels with the target's labels on held-out inputs. */
export const fidelity = (targetLabels: Int32Array, substituteLabels: Int32Array): number =>
  agreement(targetLabels, substituteLabels);

/** Agreement of predicted labels with the true labels. */
export const accuracy = (trueLabels: Int32Array, predictedLabels: Int32Array): number =>
  agreement(trueLabels, predictedLabels);
