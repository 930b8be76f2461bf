export { buildProbeServer, buildServer, type HttpDeps, type ServerContext } from './server.js';
