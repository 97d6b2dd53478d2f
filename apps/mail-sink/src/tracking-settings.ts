import { isRecord } from './mail-send-request.js';

/** Whether SendGrid would track a message's opens (its pixel) and clicks (its rewritten links). */
export type MessageTracking = { opens: boolean; clicks: boolean };

/**
 * The tracking a message gets from its `tracking_settings`. A setting left out falls back to the
 * account's, which the sink takes to be on: SendGrid enables open and click tracking on new accounts.
 */
export function trackingOf(settings: unknown): MessageTracking {
  const enabled = (name: string) => {
    const setting = isRecord(settings) ? settings[name] : undefined;
    return isRecord(setting) && typeof setting.enable === 'boolean' ? setting.enable : true;
  };
  return { opens: enabled('open_tracking'), clicks: enabled('click_tracking') };
}
