/**
 * How long `POST /send` takes to answer for a large audience: the campaign, one delivery per
 * subscriber and the whole streamed list of task ids. The web alone over a scratch database; no
 * worker runs, so nothing competes with the snapshot.
 */
import { startBenchWeb } from './bench-web.js';
import { postSend, seedAudience } from './post-send.js';

export async function measureSendAnswer(recipients: number): Promise<{ recipients: number; answerMs: number }> {
  const web = await startBenchWeb(`herald_bench_answer_${process.pid}`);
  try {
    await seedAudience(web.db, recipients);
    const { answerMs } = await postSend(web.url, recipients);
    return { recipients, answerMs };
  } finally {
    await web.close();
  }
}
