import { bearerTokenMatches } from './secrets.js';

/**
 * Who may read /metrics, on the web and on the worker alike. Prometheus's own convention for a
 * protected target: `authorization: {credentials: <METRICS_TOKEN>}` in the scrape config, which
 * sends `Authorization: Bearer <token>`. With no token configured the endpoint stays closed:
 * queue depths and route counts are nobody's business by default.
 */
export type MetricsAccess =
  | { allowed: true }
  | { allowed: false; status: 401 | 403; code: 'metrics_disabled' | 'unauthorized'; message: string; headers: Record<string, string> };

export function checkMetricsAccess(authorization: string | undefined, metricsToken: string | undefined): MetricsAccess {
  if (!metricsToken) {
    return {
      allowed: false,
      status: 403,
      code: 'metrics_disabled',
      message: 'Metrics are disabled: set METRICS_TOKEN and scrape with that bearer token.',
      headers: {},
    };
  }
  if (!bearerTokenMatches(authorization, metricsToken)) {
    return {
      allowed: false,
      status: 401,
      code: 'unauthorized',
      message: 'A valid metrics bearer token is required.',
      headers: { 'WWW-Authenticate': 'Bearer realm="herald-metrics"' },
    };
  }
  return { allowed: true };
}
