import { readFileSync, writeFileSync } from 'node:fs';
import { gunzipSync, gzipSync } from 'node:zlib';

import { Direction3, makeVolume, Vec3, Volume, VoxelArray } from './volume';

/**
 * NRRD 0004 for 3D scalar volumes in LPS space, raw or gzip encoded, little
 * endian (http://teem.sourceforge.net/nrrd/format.html). Enough to read the
 * reference masks in ../shared and to write masks and resampled volumes that
 * 3D Slicer and ITK-SNAP open.
 */
export class NrrdError extends Error {
  override name = 'NrrdError';
}

const TYPE_BY_NAME: Record<string, new (n: number) => VoxelArray> = {
  short: Int16Array,
  int16: Int16Array,
  'signed short': Int16Array,
  'unsigned short': Uint16Array,
  uint16: Uint16Array,
  'unsigned char': Uint8Array,
  uchar: Uint8Array,
  uint8: Uint8Array,
  int: Int32Array,
  int32: Int32Array,
  float: Float32Array,
};

function nrrdTypeName(data: VoxelArray): string {
  if (data instanceof Int16Array) return 'short';
  if (data instanceof Uint16Array) return 'unsigned short';
  if (data instanceof Uint8Array) return 'unsigned char';
  if (data instanceof Int32Array) return 'int';
  return 'float';
}

function parseVector(text: string, file: string, field: string): Vec3 {
  const numbers = text
    .replace(/[()]/g, '')
    .split(',')
    .map((s) => Number(s.trim()));
  if (numbers.length !== 3 || numbers.some((n) => !Number.isFinite(n))) {
    throw new NrrdError(`${file}: field "${field}" has a bad vector "${text}"`);
  }
  return numbers as Vec3;
}

export function readNrrd(file: string): Volume {
  const bytes = readFileSync(file);
  const headerEnd = bytes.indexOf('\n\n');
  if (bytes.subarray(0, 4).toString('latin1') !== 'NRRD' || headerEnd < 0) {
    throw new NrrdError(`${file}: not a NRRD file with an attached header`);
  }

  const fields = new Map<string, string>();
  for (const line of bytes.subarray(0, headerEnd).toString('latin1').split('\n').slice(1)) {
    if (line.startsWith('#') || !line.includes(':')) continue;
    const at = line.indexOf(':');
    fields.set(
      line.slice(0, at).trim(),
      line
        .slice(at + 1)
        .replace(/^=?\s*/, '')
        .trim(),
    );
  }
  const field = (name: string): string => {
    const value = fields.get(name);
    if (value === undefined) throw new NrrdError(`${file}: field "${name}" is missing`);
    return value;
  };

  const ArrayType = TYPE_BY_NAME[field('type')];
  if (ArrayType === undefined) throw new NrrdError(`${file}: type "${field('type')}" unsupported`);
  if (field('dimension') !== '3') {
    throw new NrrdError(`${file}: dimension "${field('dimension')}" is not 3`);
  }
  const dims = field('sizes').split(/\s+/).map(Number) as Vec3;
  const endian = fields.get('endian') ?? 'little';
  if (endian !== 'little') throw new NrrdError(`${file}: endian "${endian}" unsupported`);

  const columns = (fields.get('space directions') ?? '(1,0,0) (0,1,0) (0,0,1)')
    .split(/\)\s*\(/)
    .map((part) => parseVector(part, file, 'space directions'));
  const spacingMm = columns.map((c) => Math.hypot(...c)) as Vec3;
  const direction = [0, 1, 2].flatMap((row) =>
    columns.map((c, col) => c[row] / spacingMm[col]),
  ) as Direction3;
  const originMm = parseVector(fields.get('space origin') ?? '(0,0,0)', file, 'space origin');

  const payload = bytes.subarray(headerEnd + 2);
  const encoding = field('encoding');
  let raw: Buffer;
  if (encoding === 'raw') raw = payload;
  else if (encoding === 'gzip' || encoding === 'gz') raw = gunzipSync(payload);
  else throw new NrrdError(`${file}: encoding "${encoding}" unsupported`);

  const data = new ArrayType(dims[0] * dims[1] * dims[2]);
  const expected = data.byteLength;
  if (raw.length < expected) {
    throw new NrrdError(`${file}: ${raw.length} data bytes, sizes need ${expected}`);
  }
  Buffer.from(data.buffer).set(raw.subarray(raw.length - expected));
  return makeVolume(data, dims, spacingMm, originMm, direction);
}

function vector(v: readonly number[]): string {
  return `(${v.map((n) => Number(n.toPrecision(12))).join(',')})`;
}

export function writeNrrd(file: string, volume: Volume, options: { gzip?: boolean } = {}): void {
  const { dims, spacingMm: s, direction: d } = volume;
  const columns = [0, 1, 2].map((col) => [0, 1, 2].map((row) => d[row * 3 + col] * s[col]));
  const gzip = options.gzip ?? true;
  const header = [
    'NRRD0004',
    `type: ${nrrdTypeName(volume.data)}`,
    'dimension: 3',
    'space: left-posterior-superior',
    `sizes: ${dims.join(' ')}`,
    `space directions: ${columns.map(vector).join(' ')}`,
    'kinds: domain domain domain',
    'endian: little',
    `encoding: ${gzip ? 'gzip' : 'raw'}`,
    `space origin: ${vector(volume.originMm)}`,
    '',
    '',
  ].join('\n');
  const raw = Buffer.from(volume.data.buffer, volume.data.byteOffset, volume.data.byteLength);
  writeFileSync(file, Buffer.concat([Buffer.from(header, 'latin1'), gzip ? gzipSync(raw) : raw]));
}
