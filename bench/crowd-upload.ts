import axios from 'axios';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { Readable } from 'node:stream';
import { multipartFile } from '../src/integrations/crowd-prediction/crowd-prediction.client';
import { startCrowdServer } from '../test/doubles/crowd-server';

/**
 * How the upload to the crowd API is encoded, measured alone: the service's single-Buffer
 * multipart body against the FormData + Blob it replaced, through axios to the detector double
 * in the same process (so the CPU figures include the double's parsing, equal for both).
 * Usage: node build/bench/crowd-upload.js [uploads per round, default 400]
 */
async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? 400);
  const concurrency = 20;
  const server = await startCrowdServer();
  server.setDefault({ count: 3 });
  const image = randomBytes(384 * 1024); // the size of the sensor benchmark's 1080p JPEG
  const client = axios.create({ httpAgent: new http.Agent({ keepAlive: true }), validateStatus: () => true });
  const post = (body: unknown, headers: Record<string, string> = {}): Promise<unknown> =>
    client.post(server.predictUrl, body, { headers, responseType: 'arraybuffer', maxBodyLength: Infinity });
  const variants: Record<string, () => Promise<unknown>> = {
    'FormData + Blob': () => {
      const form = new FormData();
      form.append('file', new Blob([new Uint8Array(image)], { type: 'image/jpeg' }), 'capture.jpg');
      return post(form);
    },
    'streamed parts (multipartFile)': () => {
      const m = multipartFile('file', { buffer: image, filename: 'capture.jpg', mimeType: 'image/jpeg' });
      return post(Readable.from(m.parts), { 'Content-Type': m.contentType, 'Content-Length': String(m.length) });
    },
  };
  const cpu: Record<string, number[]> = {};
  for (let round = 0; round < 5; round += 1) {
    for (const [name, upload] of Object.entries(variants)) {
      let next = 0;
      const start = process.cpuUsage();
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (next++ < n) {
            await upload();
          }
        }),
      );
      const used = process.cpuUsage(start);
      (cpu[name] ??= []).push((used.user + used.system) / 1000 / n);
    }
  }
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const out = Object.fromEntries(Object.entries(cpu).map(([k, v]) => [k, `${median(v).toFixed(2)} ms CPU per upload (median of ${v.length} rounds of ${n})`]));
  console.log(JSON.stringify(out, null, 2));
  await server.close();
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
