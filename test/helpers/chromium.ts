import { chromium, type BrowserContext } from 'playwright-core';

import { tempDir } from './fixtures.js';

/** Debian's Chromium, driven headless over CDP (never a downloaded browser). */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export interface Browser {
  readonly context: BrowserContext;
  /** Closes the browser and removes its profile. */
  close(): Promise<void>;
}

/** Headless Chromium with a fresh profile of its own, asking nothing of the network by itself. */
export async function launchChromium(): Promise<Browser> {
  const profile = await tempDir('cases-etl-chromium-');
  const context = await chromium.launchPersistentContext(profile.dir, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  return {
    context,
    close: async () => {
      await context.close();
      await profile.cleanup();
    },
  };
}
