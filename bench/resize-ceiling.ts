import { readFileSync } from 'node:fs';
import sharp from 'sharp';

/**
 * The NORMAL-path ceiling: nothing but the image preparation the service does before calling
 * Gemini (decode with shrink-on-load, rotate, fit in 1024 px, JPEG q85), at the same
 * concurrency, in its own process with the service's sharp settings. Prints one JSON line.
 * Usage: node resize-ceiling.js <image> <concurrency> <seconds>
 */
async function main(): Promise<void> {
  const [file, conc, secs] = process.argv.slice(2);
  const image = readFileSync(file);
  const concurrency = Number(conc ?? 80);
  const deadline = performance.now() + Number(secs ?? 10) * 1000;
  // the service's own preparation function when the build has it, else the spec's recipe
  let prepare: (b: Buffer) => Promise<unknown>;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require('../../dist/integrations/gemini/image-prep') as { prepareImageForGemini?: (b: Buffer) => Promise<unknown> };
    if (!mod.prepareImageForGemini) {
      throw new Error('missing');
    }
    prepare = mod.prepareImageForGemini;
  } catch {
    prepare = (b) =>
      sharp(b, { limitInputPixels: 50_000_000 })
        .rotate()
        .resize({ width: 1024, height: 1024, fit: 'inside', withoutEnlargement: true })
        .flatten({ background: '#ffffff' })
        .jpeg({ quality: 85 })
        .toBuffer();
  }
  let done = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        await prepare(image);
        done += 1;
      }
    }),
  );
  const secsTaken = (performance.now() - started) / 1000;
  process.stdout.write(`${JSON.stringify({ ops: done, seconds: secsTaken, opsPerSec: done / secsTaken })}\n`);
}

void main();
