export * from './audience-segment.js';
export * from './compile-segment.js';
export * from './segment-rules.js';
