/**
 * What an email says, rendered the same way wherever it is needed: by the worker that sends it and by
 * the web pages that preview or publish it.
 */
export * from './campaign-html.js';
export * from './email-env.js';
export * from './email-layout.js';
export * from './email-size.js';
export * from './escape-html.js';
export * from './list-id.js';
export * from './public-urls.js';
export * from './preheader.js';
export * from './render-campaign.js';
export * from './render-confirmation.js';
export * from './render-invitation.js';
export * from './render-welcome.js';
