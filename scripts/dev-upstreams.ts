/**
 * `npm run dev:upstreams`: the crowd-prediction and Gemini test doubles on fixed local ports, so
 * `npm start` can run the whole detection pipeline on one machine without the real services.
 * DEV_CROWD_COUNT (default 3) and DEV_GEMINI_TEXT (default "5") set the answers;
 * DEV_CROWD_PORT / DEV_GEMINI_PORT (8001 / 8002) the ports.
 */
import { startCrowdServer } from '../test/doubles/crowd-server';
import { startGeminiServer } from '../test/doubles/gemini-server';

async function main(): Promise<void> {
  const crowdPort = Number(process.env.DEV_CROWD_PORT ?? 8001);
  const geminiPort = Number(process.env.DEV_GEMINI_PORT ?? 8002);
  const crowd = await startCrowdServer({ port: crowdPort });
  const gemini = await startGeminiServer({ port: geminiPort });
  crowd.setDefault({ count: process.env.DEV_CROWD_COUNT ?? 3 });
  gemini.setDefault({ text: process.env.DEV_GEMINI_TEXT ?? '5' });

  console.log(`crowd-prediction double: POST ${crowd.predictUrl}, GET ${crowd.url}/health (sahi_count ${process.env.DEV_CROWD_COUNT ?? 3})`);
  console.log(`Gemini double:           POST ${gemini.url}/v1beta/models/<model>:generateContent (answers "${process.env.DEV_GEMINI_TEXT ?? '5'}")`);
  console.log('\nStart the API against them, e.g.:\n');
  console.log(`  CROWD_PREDICT_URL=${crowd.predictUrl} GEMINI_BASE_URL=${gemini.url} GEMINI_API_KEY=dev npm start\n`);
  console.log('Ctrl-C stops both.');

  // one line per call, so a developer sees the pipeline reach each upstream
  let seenCrowd = 0;
  let seenGemini = 0;
  const timer = setInterval(() => {
    for (; seenCrowd < crowd.received.length; seenCrowd++) {
      const r = crowd.received[seenCrowd];
      console.log(`[crowd]  ${new Date(r.at).toISOString()} file=${r.filename} ${r.mimeType} ${r.size} B`);
    }
    for (; seenGemini < gemini.received.length; seenGemini++) {
      const r = gemini.received[seenGemini];
      console.log(`[gemini] ${new Date(r.at).toISOString()} model=${r.model} image=${r.imageWidth ?? '?'}x${r.imageHeight ?? '?'} ${r.imageBytes ?? 0} B`);
    }
  }, 250);

  const stop = (): void => {
    clearInterval(timer);
    Promise.all([crowd.close(), gemini.close()]).then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
