import { constants, NativeCodecs, Transcoder } from 'dcmjs-codecs';

import { SeriesError } from './series-error';
import { Vec3 } from './volume';
import { dcmjsData, dcmjsLog } from '../dicom/dcmjs';

/**
 * One DICOM file to the CT frames it holds, each as HU with its plane
 * geometry. Classic CT Image Storage holds one frame; Enhanced CT holds many
 * and keeps their geometry in functional groups (PS3.3 C.7.6.16).
 */

export const CT_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.2';
export const ENHANCED_CT_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.2.1';
export const LEGACY_ENHANCED_CT_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.2.2';
const CT_CLASSES = new Set([
  CT_IMAGE_STORAGE,
  ENHANCED_CT_IMAGE_STORAGE,
  LEGACY_ENHANCED_CT_IMAGE_STORAGE,
]);

/** Transfer syntaxes dcmjs reads without a codec (PS3.5 A.1 - A.3). */
const NATIVE_SYNTAXES = new Set([
  '1.2.840.10008.1.2',
  '1.2.840.10008.1.2.1',
  '1.2.840.10008.1.2.2',
]);

/** What padding pixels (outside the reconstruction circle) become: air. */
export const PADDING_HU = -1024;

export interface CtFrame {
  sopInstanceUid: string;
  /** 1-based frame number inside its instance (1 for classic CT). */
  frameNumber: number;
  seriesInstanceUid: string;
  frameOfReferenceUid: string | undefined;
  /** Centre of the first transmitted pixel, mm (LPS). */
  imagePositionPatient: Vec3;
  /** Row direction cosines then column direction cosines. */
  imageOrientationPatient: [number, number, number, number, number, number];
  /** [between rows, between columns] as PixelSpacing (0028,0030) orders them. */
  pixelSpacingMm: [number, number];
  rows: number;
  columns: number;
  gantryDetectorTiltDegrees: number;
  /** Rescaled values in HU, rounded, row by row. */
  hu: Int16Array;
}

type Dataset = Record<string, unknown>;

/**
 * dcmjs writes a console line for every odd VR it repairs (each LIDC file has
 * one: "Invalid vr type ox - using OW"). Commands and tests call this once
 * at start; the library code never changes dcmjs' log levels by itself.
 * Files dcmjs cannot repair still fail with a SeriesError.
 */
export function quietDcmjsWarnings(): void {
  dcmjsLog.setLevel('error');
  dcmjsLog.getLogger('validation.dcmjs').setLevel('silent');
}

let codecsReady: Promise<void> | undefined;

/** Loads the WebAssembly codecs once per process (they work offline). */
export function initializeCodecs(): Promise<void> {
  codecsReady ??= NativeCodecs.initializeAsync();
  return codecsReady;
}

function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

function text(value: unknown): string | undefined {
  const first = Array.isArray(value) ? value[0] : value;
  // dcmjs leaves the NUL padding of some UI and CS values in place.
  return typeof first === 'string' ? first.replace(/[\0\s]+$/, '') : undefined;
}

function numbers(value: unknown): number[] | undefined {
  if (value === undefined || value === null) return undefined;
  const list = (Array.isArray(value) ? value : [value]).map(Number);
  return list.every((n) => Number.isFinite(n)) ? list : undefined;
}

function firstItem(value: unknown): Dataset | undefined {
  const item = Array.isArray(value) ? value[0] : value;
  return typeof item === 'object' && item !== null ? (item as Dataset) : undefined;
}

function required(values: number[] | undefined, count: number, name: string, where: string) {
  if (values === undefined || values.length < count) {
    throw new SeriesError('bad-dicom', `${where}: ${name} is ${JSON.stringify(values)}`);
  }
  return values;
}

/** Parses one Part 10 file, decoding compressed pixel data through dcmjs-codecs. */
export async function parsePart10(bytes: Uint8Array, where: string): Promise<Dataset> {
  let message: { dict: Dataset; meta: Dataset };
  try {
    message = dcmjsData.DicomMessage.readFile(toArrayBuffer(bytes));
  } catch (cause) {
    throw new SeriesError('bad-dicom', `${where}: not readable as DICOM Part 10`, { cause });
  }

  const syntax = text((message.meta['00020010'] as { Value?: unknown } | undefined)?.Value);
  if (syntax !== undefined && !NATIVE_SYNTAXES.has(syntax)) {
    await initializeCodecs();
    try {
      const transcoder = new Transcoder(toArrayBuffer(bytes));
      transcoder.transcode(constants.TransferSyntax.ExplicitVRLittleEndian);
      message = dcmjsData.DicomMessage.readFile(transcoder.getDicomPart10());
    } catch (cause) {
      throw new SeriesError(
        'unsupported-transfer-syntax',
        `${where}: cannot decode transfer syntax ${syntax}`,
        { cause },
      );
    }
  }
  return dcmjsData.DicomMetaDictionary.naturalizeDataset(message.dict);
}

/** The CT frames of a naturalized dataset, converted to HU. */
export function ctFrames(dataset: Dataset, where: string): CtFrame[] {
  const sopClassUid = text(dataset.SOPClassUID) ?? '';
  if (!CT_CLASSES.has(sopClassUid)) {
    throw new SeriesError('not-ct', `${where}: SOPClassUID "${sopClassUid}" is not a CT image`);
  }
  const rows = Number(dataset.Rows);
  const columns = Number(dataset.Columns);
  const frameCount = Number(text(dataset.NumberOfFrames) ?? dataset.NumberOfFrames ?? 1);
  const pixels = storedPixels(dataset, rows, columns, frameCount, where);

  const shared = firstItem(dataset.SharedFunctionalGroupsSequence) ?? {};
  const perFrame = Array.isArray(dataset.PerFrameFunctionalGroupsSequence)
    ? (dataset.PerFrameFunctionalGroupsSequence as Dataset[])
    : [];
  const frames: CtFrame[] = [];

  for (let f = 0; f < frameCount; f++) {
    // Per-frame groups override shared ones, which override the top level
    // (PS3.3 C.7.6.16: a macro is in one of the two groups, never both).
    const pick = (sequence: string, keyword: string): unknown =>
      firstItem(perFrame[f]?.[sequence])?.[keyword] ??
      firstItem(shared[sequence])?.[keyword] ??
      dataset[keyword];
    const here = frameCount > 1 ? `${where} frame ${f + 1}` : where;

    const position = required(
      numbers(pick('PlanePositionSequence', 'ImagePositionPatient')),
      3,
      'ImagePositionPatient',
      here,
    );
    const orientation = required(
      numbers(pick('PlaneOrientationSequence', 'ImageOrientationPatient')),
      6,
      'ImageOrientationPatient',
      here,
    );
    const spacing = required(
      numbers(pick('PixelMeasuresSequence', 'PixelSpacing')),
      2,
      'PixelSpacing',
      here,
    );
    const slope = numbers(pick('PixelValueTransformationSequence', 'RescaleSlope'))?.[0] ?? 1;
    const intercept =
      numbers(pick('PixelValueTransformationSequence', 'RescaleIntercept'))?.[0] ?? 0;

    frames.push({
      sopInstanceUid: text(dataset.SOPInstanceUID) ?? '',
      frameNumber: f + 1,
      seriesInstanceUid: text(dataset.SeriesInstanceUID) ?? '',
      frameOfReferenceUid: text(dataset.FrameOfReferenceUID),
      imagePositionPatient: position.slice(0, 3) as Vec3,
      imageOrientationPatient: orientation.slice(0, 6) as CtFrame['imageOrientationPatient'],
      pixelSpacingMm: [spacing[0], spacing[1]],
      rows,
      columns,
      gantryDetectorTiltDegrees: numbers(dataset.GantryDetectorTilt)?.[0] ?? 0,
      hu: rescaleToHu(pixels, f * rows * columns, rows * columns, slope, intercept, dataset),
    });
  }
  return frames;
}

interface StoredPixels {
  words: Uint16Array;
  bitsStored: number;
  signed: boolean;
}

/** The 16-bit words of PixelData, one view over all frames (PS3.5 8.1.1). */
function storedPixels(
  dataset: Dataset,
  rows: number,
  columns: number,
  frameCount: number,
  where: string,
): StoredPixels {
  const bitsAllocated = Number(dataset.BitsAllocated);
  const bitsStored = Number(dataset.BitsStored ?? bitsAllocated);
  const samples = Number(dataset.SamplesPerPixel ?? 1);
  if (bitsAllocated !== 16 || samples !== 1 || !(bitsStored >= 1 && bitsStored <= 16)) {
    throw new SeriesError(
      'unsupported-pixel-data',
      `${where}: BitsAllocated ${bitsAllocated}, BitsStored ${bitsStored}, ` +
        `SamplesPerPixel ${samples} (CT needs 16-bit grayscale)`,
    );
  }

  const count = rows * columns * frameCount;
  const fragments = (
    Array.isArray(dataset.PixelData) ? dataset.PixelData : [dataset.PixelData]
  ).filter((b): b is ArrayBuffer => b instanceof ArrayBuffer);
  const byteLength = fragments.reduce((n, b) => n + b.byteLength, 0);
  if (!(count > 0) || byteLength < count * 2) {
    throw new SeriesError(
      'bad-dicom',
      `${where}: PixelData has ${byteLength} bytes, ${rows} x ${columns} x ${frameCount} ` +
        `needs ${count * 2}`,
    );
  }

  let words: Uint16Array;
  if (fragments.length === 1) {
    words = new Uint16Array(fragments[0], 0, count);
  } else {
    words = new Uint16Array(count);
    let n = 0;
    for (const fragment of fragments) {
      const part = new Uint16Array(fragment, 0, Math.min(fragment.byteLength >> 1, count - n));
      words.set(part, n);
      n += part.length;
    }
  }
  return { words, bitsStored, signed: Number(dataset.PixelRepresentation) === 1 };
}

/**
 * Modality LUT (PS3.3 C.11.1): HU = slope * stored + intercept, stored values
 * sign-extended from BitsStored. Pixels equal to PixelPaddingValue, or inside
 * [PixelPaddingValue, PixelPaddingRangeLimit], are not tissue and become air
 * (PS3.3 C.7.5.1.1.2).
 */
function rescaleToHu(
  pixels: StoredPixels,
  start: number,
  length: number,
  slope: number,
  intercept: number,
  dataset: Dataset,
): Int16Array {
  const { words, bitsStored, signed } = pixels;
  const asStored = (v: number | undefined): number | undefined =>
    // Padding values are written as US by some scanners even when pixels are signed.
    v !== undefined && signed && v > 32767 ? v - 65536 : v;
  const padding = asStored(numbers(dataset.PixelPaddingValue)?.[0]);
  const limit = asStored(numbers(dataset.PixelPaddingRangeLimit)?.[0]) ?? padding;
  const low = Math.min(padding ?? Infinity, limit ?? Infinity);
  const high = Math.max(padding ?? -Infinity, limit ?? -Infinity);
  const mask = (1 << bitsStored) - 1;
  const signBit = 1 << (bitsStored - 1);

  const hu = new Int16Array(length);
  for (let p = 0; p < length; p++) {
    const raw = words[start + p] & mask;
    const value = signed && raw & signBit ? raw - 2 * signBit : raw;
    if (value >= low && value <= high) {
      hu[p] = PADDING_HU;
      continue;
    }
    // Ternaries, not Math.*: jest's sandboxed Math is not inlined and makes
    // this per-pixel loop 25 times slower in tests.
    const scaled = slope * value + intercept;
    const rounded = scaled >= 0 ? (scaled + 0.5) | 0 : -((0.5 - scaled) | 0);
    hu[p] = rounded > 32767 ? 32767 : rounded < -32768 ? -32768 : rounded;
  }
  return hu;
}
