import type { Mailer } from '../mail/mailer.js';
import { failureStatusClass } from '../mail/sendgrid.js';
import type { WorkerMetrics } from './worker-metrics.js';

/** The same mailer, timing every provider call and counting SendGrid's answers by status class. */
export function instrumentMailer<M extends Mailer>(mailer: M, metrics: WorkerMetrics): M {
  return {
    ...mailer,
    async send(email) {
      const stopTimer = metrics.sendDuration.startTimer();
      try {
        const result = await mailer.send(email);
        metrics.providerResponses.inc({ status_class: '2xx' });
        return result;
      } catch (err) {
        metrics.providerResponses.inc({ status_class: failureStatusClass(err) });
        throw err;
      } finally {
        stopTimer();
      }
    },
  };
}
