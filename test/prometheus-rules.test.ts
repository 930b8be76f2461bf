import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

/**
 * deploy/prometheus/alerts.yml as Prometheus reads it: `promtool check rules` (syntax, templates)
 * and `promtool test rules` on the unit-test series of alerts.test.yml (each alert firing when it
 * should, with its labels and text, and quiet when it should not). promtool is Debian's
 * `prometheus` package, which .ci/run installs when it is missing.
 */

const DIR = fileURLToPath(new URL('../deploy/prometheus/', import.meta.url));

function promtool(...args: string[]): { status: number | null; output: string } {
  const r = spawnSync('promtool', args, { cwd: DIR, encoding: 'utf8' });
  if (r.error) throw r.error;
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

describe('Prometheus alert rules', () => {
  it('are valid rules', () => {
    const r = promtool('check', 'rules', 'alerts.yml');
    expect(r.output).toContain('SUCCESS: 8 rules found');
    expect(r.status).toBe(0);
  });

  it('pass their unit tests', () => {
    const r = promtool('test', 'rules', 'alerts.test.yml');
    expect(r.output).toContain('SUCCESS');
    expect(r.status).toBe(0);
  });
});
