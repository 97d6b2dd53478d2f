import type { Mailer } from '../mail/mailer.js';
import { failureStatusClass } from '../mail/sendgrid.js';
import type { WorkerMetrics } from './worker-metrics.js';

/** The same mailer, timing every provider call, counting its recipients and SendGrid's answers by status class. */
export function instrumentMailer<M extends Mailer>(mailer: M, metrics: WorkerMetrics): M {
  const timed = async <T>(recipients: number, call: () => Promise<T>): Promise<T> => {
    metrics.requestRecipients.observe(recipients);
    const stopTimer = metrics.sendDuration.startTimer();
    try {
      const result = await call();
      metrics.providerResponses.inc({ status_class: '2xx' });
      return result;
    } catch (err) {
      metrics.providerResponses.inc({ status_class: failureStatusClass(err) });
      throw err;
    } finally {
      stopTimer();
    }
  };
  return {
    ...mailer,
    send: (email) => timed(1, () => mailer.send(email)),
    sendBatch: (batch) => timed(batch.personalizations.length, () => mailer.sendBatch(batch)),
  };
}
