/** The one module-level singleton the design allows: a small leveled logger writing JSON lines to stderr. */
const levels = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 } as const;
export type LogLevel = keyof typeof levels;

let threshold: number = levels.info;

export function setLogLevel(level: LogLevel): void {
  threshold = levels[level];
}

function write(level: Exclude<LogLevel, 'silent'>, msg: string, data?: Record<string, unknown>): void {
  if (levels[level] < threshold) return;
  process.stderr.write(JSON.stringify({ at: new Date().toISOString(), level, msg, ...data }) + '\n');
}

export const logger = {
  debug: (msg: string, data?: Record<string, unknown>) => write('debug', msg, data),
  info: (msg: string, data?: Record<string, unknown>) => write('info', msg, data),
  warn: (msg: string, data?: Record<string, unknown>) => write('warn', msg, data),
  error: (msg: string, data?: Record<string, unknown>) => write('error', msg, data),
};
