export { buildServer, type HttpDeps, type ServerContext } from './server.js';
