import { existsSync, readFileSync } from 'node:fs';

import { ConfigError } from './errors';
import { Config, configSchema } from './schema';

export const ENV_PREFIX = 'CT3DFLOW__';
export const DEFAULT_CONFIG_FILE = 'config/ct3dflow.json';

type Tree = Record<string, unknown>;

/**
 * Turns `CT3DFLOW__SERIES__ELIGIBILITY__MIN_SLICES=40` into
 * `{ series: { eligibility: { minSlices: 40 } } }`. A value that parses as
 * JSON (numbers, booleans, arrays) is taken as such, anything else as a string.
 */
export function envOverrides(env: NodeJS.ProcessEnv): Tree {
  const tree: Tree = {};

  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith(ENV_PREFIX) || raw === undefined) continue;

    const path = name
      .slice(ENV_PREFIX.length)
      .split('__')
      .map((part) => part.toLowerCase().replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase()));
    setPath(tree, path, parseScalar(raw));
  }
  return tree;
}

function parseScalar(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

export function setPath(tree: Tree, path: string[], value: unknown): void {
  let node = tree;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[key] = {};
    node = node[key] as Tree;
  }
  node[path[path.length - 1]] = value;
}

/** Deep merge of plain objects; arrays and scalars from `over` replace. */
export function merge(base: Tree, over: Tree): Tree {
  const out: Tree = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const prior = out[key];
    const bothObjects = isPlainObject(prior) && isPlainObject(value);
    out[key] = bothObjects ? merge(prior as Tree, value as Tree) : value;
  }
  return out;
}

function isPlainObject(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function readConfigFile(file: string): Tree {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new ConfigError(`cannot read config file ${file}`, undefined, undefined, { cause });
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (!isPlainObject(parsed)) throw new Error('top level is not an object');
    return parsed as Tree;
  } catch (cause) {
    throw new ConfigError(
      `config file ${file} is not a JSON object: ${String(cause)}`,
      undefined,
      undefined,
      { cause },
    );
  }
}

function valueAt(tree: unknown, path: PropertyKey[]): unknown {
  let node = tree;
  for (const key of path) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<PropertyKey, unknown>)[key];
  }
  return node;
}

/** Validates a raw tree; the first problem becomes a ConfigError naming key and value. */
export function validateConfig(raw: Tree): Config {
  const result = configSchema.safeParse(raw);
  if (result.success) return result.data;

  const issue = result.error.issues[0];
  const keyPath = issue.path.map(String).join('.');
  const value = valueAt(raw, issue.path);
  const shown = issue.code === 'unrecognized_keys' ? issue.keys.join(', ') : JSON.stringify(value);
  const where = keyPath === '' ? '(top level)' : keyPath;
  throw new ConfigError(
    `invalid config at ${where}: ${issue.message} (value: ${shown})`,
    keyPath,
    value,
  );
}

export interface LoadOptions {
  /** An explicit file must exist; the default file is optional. */
  file?: string;
  env?: NodeJS.ProcessEnv;
  /** Values from command-line flags; they win over file and environment. */
  overrides?: Tree;
}

/** File, then environment, then flags; validated once, here. */
export function loadConfig(options: LoadOptions = {}): Config {
  const file = options.file ?? DEFAULT_CONFIG_FILE;
  const fromFile = options.file !== undefined || existsSync(file) ? readConfigFile(file) : {};
  const fromEnv = envOverrides(options.env ?? process.env);
  const merged = merge(merge(fromFile, fromEnv), options.overrides ?? {});
  return validateConfig(merged);
}

export type { Config };
