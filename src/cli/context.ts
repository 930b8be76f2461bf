import { loadConfig, type Config, type ConfigOverrides } from '../config/index.js';
import { loadLayouts, type LayoutRegistry } from '../layouts/index.js';

/** Where a command writes and how it ends; tests pass their own. */
export interface CliIo {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly isTTY: boolean;
  out(text: string): void;
  err(text: string): void;
  setExitCode(code: number): void;
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
