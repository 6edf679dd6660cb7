/**
 * All webview panel protocols, for importers that predate the split (src/host/controller.ts): new code
 * imports the panel's own file (./loss, ./viewer, ./segmentation, ./compare, ./common).
 */
export * from './common';
export * from './loss';
export * from './viewer';
export * from './segmentation';
export * from './compare';
