import { afterEach } from 'vitest';
import { takeAnswerViolations } from './answer-violations.js';

/**
 * Runs after every test of the suite (vitest `setupFiles`): a test during which the web app gave an
 * answer the API description does not describe fails, naming each answer and what did not match.
 */
afterEach(() => {
  const problems = takeAnswerViolations();
  if (problems.length > 0) {
    throw new Error(`${problems.length} answer(s) disagree with the API description (apps/web/src/openapi):\n- ${problems.join('\n- ')}`);
  }
});
