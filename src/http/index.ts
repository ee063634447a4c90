export type { HttpServerOptions } from './server';
export { buildHttpServer } from './server';
