/** @file `heist scan-web`: load a page in headless Chromium, save the models it fetches, load them. */
import { Command } from 'commander';
import { runScanWeb } from '../../runs/scan-web-run.js';
import { nonNegativeInt } from '../options.js';

export function scanWebCommand(): Command {
  return new Command('scan-web')
    .description(
      'Find models shipped to a web page: load it in headless Chromium, save every TF.js / ONNX / TFLite artefact it fetches (with URL and SHA-256), and turn TF.js models into local model files.',
    )
    .argument('<url>', 'the page, e.g. http://127.0.0.1:8000/')
    .option('--out <dir>', 'where artefacts/, models/, run.json and report.html go', 'runs/scan-web')
    .option(
      '--wait <ms>',
      'extra time after the network is idle, for pages that load their model late',
      nonNegativeInt,
      500,
    )
    .option('--chromium <path>', "the Chromium to drive (default /usr/bin/chromium, Debian's chromium package)")
    .action(async (url: string, o) => {
      const { artefacts, models } = await runScanWeb({ url, out: o.out, waitMs: o.wait, chromium: o.chromium });
      const lines = [
        `${artefacts.length} model artefacts fetched by ${url}:`,
        ...artefacts.map((a) => `  ${a.kind} ${a.url} (${a.bytes} bytes, sha256 ${a.sha256.slice(0, 16)}...)`),
        ...models.map((m) =>
          m.loadError
            ? `model ${o.out}/${m.file}: not loadable: ${m.loadError}`
            : `model ${o.out}/${m.file}${m.inputShape ? `: input [${m.inputShape.join(', ')}], ${m.classes} classes; steal it with --target ${o.out}/${m.file}` : ''}`,
        ),
        `report: ${o.out}/report.html`,
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
    });
}
