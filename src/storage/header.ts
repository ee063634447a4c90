import { InstanceAttributes } from '../series/attributes';
import { dcmjsData } from '../dicom/dcmjs';

/** A received dataset that cannot be parsed or lacks what the node needs. */
export class DatasetError extends Error {
  override name = 'DatasetError';
}

/** The identifying UIDs plus the attributes recorded for the rules. */
export interface InstanceHeader {
  sopClassUid: string;
  sopInstanceUid: string;
  studyInstanceUid: string;
  seriesInstanceUid: string;
  accessionNumber?: string;
  attributes: InstanceAttributes;
}

const IMPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2';
const EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1';
const EXPLICIT_VR_BIG_ENDIAN = '1.2.840.10008.1.2.2';

/** Everything of interest comes before PixelData (7FE0,0010). */
const PIXEL_DATA_TAG = '7FE00010';

/**
 * Reads the dataset up to PixelData. Throws DatasetError when the bytes
 * are not a dataset in the given transfer syntax (dcmjs throws on a
 * malformed element; the error is kept as `cause`).
 */
export function parseDatasetHeader(bytes: Buffer, transferSyntaxUid: string): InstanceHeader {
  // Compressed syntaxes encode the dataset itself as Explicit VR LE.
  const syntax =
    transferSyntaxUid === IMPLICIT_VR_LITTLE_ENDIAN || transferSyntaxUid === EXPLICIT_VR_BIG_ENDIAN
      ? transferSyntaxUid
      : EXPLICIT_VR_LITTLE_ENDIAN;

  let natural: Record<string, unknown>;
  try {
    const copy = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
    const stream = new dcmjsData.ReadBufferStream(copy as ArrayBuffer);
    const raw = dcmjsData.DicomMessage._read(stream, syntax, {
      ignoreErrors: false,
      untilTag: PIXEL_DATA_TAG,
    });
    natural = dcmjsData.DicomMetaDictionary.naturalizeDataset(raw);
  } catch (cause) {
    throw new DatasetError(`dataset cannot be parsed: ${String(cause)}`, { cause });
  }
  return headerFromNatural(natural);
}

function text(value: unknown): string | undefined {
  if (typeof value === 'string') return value.trim();
  if (Array.isArray(value) && typeof value[0] === 'string') return value[0].trim();
  return undefined;
}

function numbers(value: unknown): number[] | undefined {
  const list = Array.isArray(value) ? value : value === undefined ? [] : [value];
  const parsed = list.map((v) => (typeof v === 'number' ? v : Number(v)));
  if (parsed.length === 0 || parsed.some((n) => !Number.isFinite(n))) return undefined;
  return parsed;
}

function one(value: unknown): number | undefined {
  return numbers(value)?.[0];
}

function first(value: unknown): Record<string, unknown> | undefined {
  if (Array.isArray(value)) return value[0] as Record<string, unknown> | undefined;
  if (typeof value === 'object' && value !== null) return value as Record<string, unknown>;
  return undefined;
}

function required(natural: Record<string, unknown>, keyword: string): string {
  const value = text(natural[keyword]);
  if (value === undefined || value === '') {
    throw new DatasetError(`dataset has no ${keyword}`);
  }
  return value;
}

/** Enhanced CT keeps geometry in functional groups (PS3.3 C.7.6.16). */
function enhancedGeometry(natural: Record<string, unknown>): Partial<InstanceAttributes> {
  const shared = first(natural.SharedFunctionalGroupsSequence);
  const perFrame = Array.isArray(natural.PerFrameFunctionalGroupsSequence)
    ? (natural.PerFrameFunctionalGroupsSequence as Array<Record<string, unknown>>)
    : [];

  const sharedOrFirst = (sequence: string): Record<string, unknown> | undefined =>
    first(shared?.[sequence]) ?? first(perFrame[0]?.[sequence]);

  const framePositionsMm = perFrame
    .map((frame) => numbers(first(frame.PlanePositionSequence)?.ImagePositionPatient))
    .filter((p): p is number[] => p !== undefined);

  return {
    imageOrientationPatient: numbers(
      sharedOrFirst('PlaneOrientationSequence')?.ImageOrientationPatient,
    ),
    pixelSpacingMm: numbers(sharedOrFirst('PixelMeasuresSequence')?.PixelSpacing),
    sliceThicknessMm: one(sharedOrFirst('PixelMeasuresSequence')?.SliceThickness),
    framePositionsMm: framePositionsMm.length > 0 ? framePositionsMm : undefined,
  };
}

function headerFromNatural(natural: Record<string, unknown>): InstanceHeader {
  const attributes: InstanceAttributes = {
    sopClassUid: required(natural, 'SOPClassUID'),
    modality: text(natural.Modality),
    imageType: Array.isArray(natural.ImageType)
      ? (natural.ImageType as unknown[]).map((v) => String(v).trim())
      : text(natural.ImageType)?.split('\\'),
    imageOrientationPatient: numbers(natural.ImageOrientationPatient),
    imagePositionPatientMm: numbers(natural.ImagePositionPatient),
    pixelSpacingMm: numbers(natural.PixelSpacing),
    rows: one(natural.Rows),
    columns: one(natural.Columns),
    sliceThicknessMm: one(natural.SliceThickness),
    acquisitionNumber: one(natural.AcquisitionNumber),
    instanceNumber: one(natural.InstanceNumber),
    frameOfReferenceUid: text(natural.FrameOfReferenceUID),
    numberOfFrames: one(natural.NumberOfFrames),
  };

  if (natural.SharedFunctionalGroupsSequence !== undefined) {
    for (const [key, value] of Object.entries(enhancedGeometry(natural))) {
      if (value !== undefined) (attributes as unknown as Record<string, unknown>)[key] = value;
    }
  }

  return {
    sopClassUid: attributes.sopClassUid,
    sopInstanceUid: required(natural, 'SOPInstanceUID'),
    studyInstanceUid: required(natural, 'StudyInstanceUID'),
    seriesInstanceUid: required(natural, 'SeriesInstanceUID'),
    accessionNumber: text(natural.AccessionNumber),
    attributes,
  };
}
