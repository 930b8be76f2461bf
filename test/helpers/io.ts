import type { CliIo } from '../../src/cli/context.js';

/** A CliIo that keeps what is written: `out` and `err` as lines, `stderr` as the bytes stderr would get. */
export function memoryIo(over: Partial<Pick<CliIo, 'env' | 'isTTY' | 'outIsTTY' | 'errColumns'>> = {}): {
  io: CliIo;
  out: string[];
  err: string[];
  stderr: () => string;
} {
  const out: string[] = [];
  const err: string[] = [];
  let raw = '';
  const io: CliIo = {
    env: {},
    isTTY: false,
    outIsTTY: false,
    errColumns: 0,
    ...over,
    out: (text) => void out.push(text),
    err: (text) => {
      err.push(text);
      raw += `${text}\n`;
    },
    errRaw: (text) => void (raw += text),
    setExitCode: () => {},
  };
  return { io, out, err, stderr: () => raw };
}
