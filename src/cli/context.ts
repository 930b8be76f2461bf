import { loadConfig, type Config, type ConfigOverrides } from '../config/index.js';
import { loadLayouts, type LayoutRegistry } from '../layouts/index.js';
import { colourEnabled, makePalette, type Palette } from './format.js';

/** Where a command writes and how it ends; tests pass their own. */
export interface CliIo {
  readonly env: Readonly<Record<string, string | undefined>>;
  /** stderr is a terminal: progress is shown there (and drawn as a bar by `run`). */
  readonly isTTY: boolean;
  /** stdout is a terminal: what commands print may be coloured (see colourEnabled). */
  readonly outIsTTY: boolean;
  /** stderr's width in characters when it is a terminal; 0 otherwise. */
  readonly errColumns: number;
  /** Writes a line to stdout. */
  out(text: string): void;
  /** Writes a line to stderr. */
  err(text: string): void;
  /** Writes `text` to stderr as it is, without a newline: a progress bar redrawn in place. */
  errRaw(text: string): void;
  setExitCode(code: number): void;
}

/** Colours for what a command prints on stdout: none unless it is a terminal and NO_COLOR is unset. */
export function outPalette(io: Pick<CliIo, 'outIsTTY' | 'env'>): Palette {
  return makePalette(colourEnabled(io.outIsTTY, io.env));
}

export interface CliContext {
  readonly config: Config;
  readonly layouts: LayoutRegistry;
}

/** Reads configuration and layouts once, the start of every command that touches data. */
export async function loadCliContext(io: CliIo, overrides: ConfigOverrides = {}): Promise<CliContext> {
  const config = loadConfig(io.env, overrides);
  const layouts = await loadLayouts(config.relationshipsPath, { optional: !config.relationshipsExplicit });
  return { config, layouts };
}
