import { spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (tests spawn the CLI from there). */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a program with a clean environment (PATH, HOME and what the test passes) and collects its output. */
export function runCommand(cmd: string, args: string[], opts: { cwd: string; env?: Record<string, string>; input?: string | Buffer }): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? os.tmpdir(), ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(opts.input ?? '');
  });
}

/**
 * Runs the real CLI (`tsx src/cli/main.ts …`) as an operator would, in a clean environment, so the
 * developer's own DATABASE_URL or PORT cannot leak in.
 */
export function runCli(args: string[], env: Record<string, string>, input?: string | Buffer): Promise<CliResult> {
  return runCommand(path.join(repoRoot, 'node_modules/.bin/tsx'), ['src/cli/main.ts', ...args], { cwd: repoRoot, env, input });
}
