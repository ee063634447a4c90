export const GENERATOR_NAME = 'ct3dflow-phantom';
/** Changes whenever the same seed and options would give different pixels. */
export const GENERATOR_VERSION = '1.2.0';
