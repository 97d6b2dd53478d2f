import type { Mailer } from '../mail/mailer.js';
import type { SendPressure } from './send-pressure.js';

/** The same mailer, counting its calls to the provider as open while they run. */
export function trackProviderCalls(mailer: Mailer, pressure: SendPressure): Mailer {
  return {
    ...mailer,
    send: (email) => pressure.trackProviderCall(() => mailer.send(email)),
    sendBatch: (batch) => pressure.trackProviderCall(() => mailer.sendBatch(batch)),
  };
}
