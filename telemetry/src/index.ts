export { createLogger, type Logger } from './log.js';
