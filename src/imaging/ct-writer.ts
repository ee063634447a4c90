import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { CT_IMAGE_STORAGE, ENHANCED_CT_IMAGE_STORAGE } from './dicom-frames';
import { seededRandom } from '../util/seeded-random';
import { indexToPatient, Vec3, Volume } from './volume';
import { dcmjsData } from '../dicom/dcmjs';

/**
 * Writes a HU volume as a CT series, classic (one file per slice) or
 * Enhanced CT (one multi-frame file). Used to make synthetic series for tests
 * and benchmarks, and to reproduce scanner quirks (slice order, unsigned
 * pixels with an intercept, padding, tilt, gaps) on purpose.
 */

export interface CtWriterOptions {
  /** File order on disk (and InstanceNumber): as sorted, reversed, or shuffled. */
  order?: 'ascending' | 'descending' | 'shuffled';
  /** Unsigned pixels with intercept -1024, as many scanners store CT. */
  unsigned?: boolean;
  /** Stored value written where `paddingMask` is set (PixelPaddingValue). */
  pixelPaddingValue?: number;
  paddingMask?: Uint8Array;
  /** Moves slice k's ImagePositionPatient (mm); for gaps, duplicates, shear. */
  positionOffsetMm?: (k: number) => Vec3 | undefined;
  gantryDetectorTiltDegrees?: number;
  /** One Enhanced CT file with per-frame functional groups instead of one file per slice. */
  enhanced?: boolean;
  seriesInstanceUid?: string;
}

type Dataset = Record<string, unknown>;

/** A UID from a random UUID (PS3.5 B.2: the 2.25 root). */
export function newUid(): string {
  return `2.25.${BigInt(`0x${randomUUID().replace(/-/g, '')}`).toString()}`;
}

function part10(dataset: Dataset): Buffer {
  const { DicomDict, DicomMetaDictionary } = dcmjsData;
  const meta = DicomMetaDictionary.denaturalizeDataset({
    FileMetaInformationVersion: new Uint8Array([0, 1]).buffer,
    MediaStorageSOPClassUID: dataset.SOPClassUID,
    MediaStorageSOPInstanceUID: dataset.SOPInstanceUID,
    TransferSyntaxUID: '1.2.840.10008.1.2.1',
    ImplementationClassUID: '2.25.56146948008587324502391847507305874505',
  });
  const dict = new DicomDict(meta);
  dict.dict = DicomMetaDictionary.denaturalizeDataset(dataset);
  return Buffer.from(dict.write());
}

function storedSlice(volume: Volume<Int16Array>, k: number, options: CtWriterOptions): ArrayBuffer {
  const plane = volume.dims[0] * volume.dims[1];
  const out = new Int16Array(plane);
  const hu = volume.data.subarray(k * plane, (k + 1) * plane);
  const pad = options.paddingMask?.subarray(k * plane, (k + 1) * plane);
  for (let p = 0; p < plane; p++) {
    if (pad?.[p] && options.pixelPaddingValue !== undefined) {
      out[p] = options.pixelPaddingValue;
      continue;
    }
    out[p] = options.unsigned ? Math.max(0, hu[p] + 1024) : hu[p];
  }
  return out.buffer;
}

function sliceOrder(count: number, order: CtWriterOptions['order']): number[] {
  const ks = Array.from({ length: count }, (_, k) => k);
  if (order === 'descending') return ks.reverse();
  if (order === 'shuffled') {
    const random = seededRandom(7);
    for (let n = count - 1; n > 0; n--) {
      const m = Math.floor(random() * (n + 1));
      [ks[n], ks[m]] = [ks[m], ks[n]];
    }
  }
  return ks;
}

/** Writes the series into `dir`; returns the file paths in the written order. */
export function writeCtSeries(
  dir: string,
  volume: Volume<Int16Array>,
  options: CtWriterOptions = {},
): string[] {
  mkdirSync(dir, { recursive: true });
  const [nI, nJ, nK] = volume.dims;
  const d = volume.direction;
  const study = {
    SOPClassUID: options.enhanced ? ENHANCED_CT_IMAGE_STORAGE : CT_IMAGE_STORAGE,
    Modality: 'CT',
    PatientName: 'SYNTHETIC^PHANTOM',
    PatientID: 'SYNTHETIC',
    StudyInstanceUID: newUid(),
    SeriesInstanceUID: options.seriesInstanceUid ?? newUid(),
    FrameOfReferenceUID: newUid(),
    SeriesNumber: 1,
    ImageType: ['ORIGINAL', 'PRIMARY', 'AXIAL'],
    Rows: nJ,
    Columns: nI,
    SamplesPerPixel: 1,
    PhotometricInterpretation: 'MONOCHROME2',
    BitsAllocated: 16,
    BitsStored: 16,
    HighBit: 15,
    PixelRepresentation: options.unsigned ? 0 : 1,
    GantryDetectorTilt: options.gantryDetectorTiltDegrees ?? 0,
    ...(options.pixelPaddingValue !== undefined && {
      PixelPaddingValue: options.pixelPaddingValue,
    }),
    _vrMap: { PixelData: 'OW', PixelPaddingValue: options.unsigned ? 'US' : 'SS' },
  };
  const geometry = (k: number) => {
    const position = indexToPatient(volume, [0, 0, k]);
    const offset = options.positionOffsetMm?.(k) ?? [0, 0, 0];
    return {
      ImagePositionPatient: position.map((c, n) => c + offset[n]),
      ImageOrientationPatient: [d[0], d[3], d[6], d[1], d[4], d[7]],
      PixelSpacing: [volume.spacingMm[1], volume.spacingMm[0]],
      SliceThickness: volume.spacingMm[2],
    };
  };
  const rescale = { RescaleSlope: 1, RescaleIntercept: options.unsigned ? -1024 : 0 };
  const order = sliceOrder(nK, options.order);

  if (options.enhanced) {
    const file = join(dir, 'enhanced.dcm');
    const frames = order.map((k) => new Uint8Array(storedSlice(volume, k, options)));
    const pixels = new Uint8Array(frames.reduce((n, f) => n + f.byteLength, 0));
    frames.forEach((f, n) => pixels.set(f, n * f.byteLength));
    const perFrame = order.map((k) => {
      const g = geometry(k);
      return {
        PlanePositionSequence: [{ ImagePositionPatient: g.ImagePositionPatient }],
        FrameContentSequence: [{ InStackPositionNumber: k + 1 }],
      };
    });
    const g0 = geometry(0);
    writeFileSync(
      file,
      part10({
        ...study,
        SOPInstanceUID: newUid(),
        InstanceNumber: 1,
        NumberOfFrames: nK,
        SharedFunctionalGroupsSequence: [
          {
            PlaneOrientationSequence: [{ ImageOrientationPatient: g0.ImageOrientationPatient }],
            PixelMeasuresSequence: [
              { PixelSpacing: g0.PixelSpacing, SliceThickness: g0.SliceThickness },
            ],
            PixelValueTransformationSequence: [{ ...rescale, RescaleType: 'HU' }],
          },
        ],
        PerFrameFunctionalGroupsSequence: perFrame,
        PixelData: pixels.buffer,
      }),
    );
    return [file];
  }

  return order.map((k, n) => {
    const file = join(dir, `ct-${String(n + 1).padStart(4, '0')}.dcm`);
    writeFileSync(
      file,
      part10({
        ...study,
        ...geometry(k),
        ...rescale,
        SOPInstanceUID: newUid(),
        InstanceNumber: n + 1,
        PixelData: storedSlice(volume, k, options),
      }),
    );
    return file;
  });
}
