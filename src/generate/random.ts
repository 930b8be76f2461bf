/**
 * A small seeded pseudo-random generator. The sample school must be byte-identical for the same
 * options on every machine and Node version, so nothing here touches Math.random or the clock.
 * sfc32 is fast, passes PractRand for the volumes we draw, and needs only 32-bit integer maths.
 */

/** A deterministic stream of random choices. */
export interface Random {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [0, n). */
  int(n: number): number;
  /** An integer in [min, max], both inclusive. */
  between(min: number, max: number): number;
  /** True with probability `p`. */
  chance(p: number): boolean;
  /** One element of a non-empty list. */
  pick<T>(items: readonly T[]): T;
}

/** FNV-1a over the label: turns a stream name into 32 bits so streams do not overlap. */
function hashLabel(label: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < label.length; i++) {
    h ^= label.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** splitmix32 finaliser: spreads nearby seeds (1, 2, 3…) into unrelated states. */
function mix(x: number): number {
  let z = (x + 0x9e3779b9) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/**
 * A random stream for `seed`, separated by `label` and an optional `index` (a family number, a
 * student number) so each table or entity draws from its own sequence and adding draws to one
 * does not shift another.
 */
export function createRandom(seed: number, label: string, index = 0): Random {
  let a = mix(seed ^ hashLabel(label));
  let b = mix(a ^ index);
  let c = mix(b + 0x6d2b79f5);
  let d = 1;
  const next32 = (): number => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return t >>> 0;
  };
  // The first outputs of sfc32 still echo the seed; discard them as the reference code does.
  for (let i = 0; i < 12; i++) next32();

  const next = (): number => next32() / 4294967296;
  const int = (n: number): number => Math.floor(next() * n);
  return {
    next,
    int,
    between: (min, max) => min + int(max - min + 1),
    chance: (p) => next() < p,
    pick: <T>(items: readonly T[]): T => {
      const item = items[int(items.length)];
      if (item === undefined) throw new Error('pick() needs a non-empty list');
      return item;
    },
  };
}

/** Picks a value by weight: `[[value, weight], …]`, weights need not sum to 1. */
export function pickWeighted<T>(random: Random, choices: readonly (readonly [T, number])[]): T {
  let total = 0;
  for (const [, w] of choices) total += w;
  let r = random.next() * total;
  for (const [value, w] of choices) {
    r -= w;
    if (r < 0) return value;
  }
  const last = choices[choices.length - 1];
  if (!last) throw new Error('pickWeighted() needs at least one choice');
  return last[0];
}
