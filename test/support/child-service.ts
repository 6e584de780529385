import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';

/** The compiled service entry point, run as production runs it. */
export const SERVICE_MAIN = join(__dirname, '..', '..', 'src', 'main.js');

export interface ChildService {
  proc: ChildProcess;
  port: number;
  stderr: () => string;
  /** stdout so far (capped at 1 MB): the JSON log lines */
  stdout: () => string;
}

/**
 * Starts `node …/src/main.js` with exactly `env` (plus PATH) and resolves once it logs that it
 * listens: a crash, a SIGKILL or memory are then those of a real, separate process.
 */
export async function startChildService(env: Record<string, string>): Promise<ChildService> {
  const proc = spawn(process.execPath, [SERVICE_MAIN], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`service did not start: ${err}${out.slice(-2000)}`)), 60000);
    proc.stdout!.on('data', (c: Buffer) => {
      if (out.length > 1_000_000) {
        return;
      }
      out += c.toString();
      const m = /"port":(\d+)[^\n]*ecoflow-backend listening/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    proc.on('exit', (code) => reject(new Error(`service exited with ${code}: ${err}`)));
  });
  proc.stdout!.resume();
  return { proc, port, stderr: () => err, stdout: () => out };
}
