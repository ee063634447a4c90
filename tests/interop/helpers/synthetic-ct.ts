import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dcmjsData } from '../../../src/dicom/dcmjs';

/**
 * SYNTHETIC CT for tests and the ingest benchmark: a 16-bit axial series
 * written with dcmjs in Explicit VR Little Endian. The pixels are a plain
 * gradient; no patient data of any kind.
 */
export interface SyntheticSeriesOptions {
  dir: string;
  slices: number;
  rows?: number;
  columns?: number;
  sliceSpacingMm?: number;
  pixelSpacingMm?: number;
  modality?: string;
  imageType?: string[];
  /** Defaults to a fresh 2.25 UID. */
  studyInstanceUid?: string;
  seriesInstanceUid?: string;
  acquisitionNumber?: number;
  /** Row and column direction cosines; default axial. */
  orientation?: number[];
  firstZMm?: number;
}

let counter = 0;

/** A UID under 2.25 made from time, pid and a counter (unique per run). */
export function newUid(): string {
  counter += 1;
  const big = BigInt(Date.now()) * 1_000_000n + BigInt(process.pid) * 1000n + BigInt(counter);
  return `2.25.${big * 1_000_003n + BigInt(Math.floor(Math.random() * 1e6))}`;
}

export interface SyntheticSeries {
  files: string[];
  studyInstanceUid: string;
  seriesInstanceUid: string;
  sopInstanceUids: string[];
}

export function writeSyntheticSeries(options: SyntheticSeriesOptions): SyntheticSeries {
  const rows = options.rows ?? 64;
  const columns = options.columns ?? 64;
  const study = options.studyInstanceUid ?? newUid();
  const series = options.seriesInstanceUid ?? newUid();
  const spacing = options.sliceSpacingMm ?? 1.25;
  mkdirSync(options.dir, { recursive: true });

  const pixels = new Int16Array(rows * columns);
  for (let i = 0; i < pixels.length; i++) pixels[i] = (i % columns) * 4 - 1000;

  const files: string[] = [];
  const sopInstanceUids: string[] = [];
  for (let k = 0; k < options.slices; k++) {
    const sop = newUid();
    const dataset = {
      _meta: undefined,
      SOPClassUID: '1.2.840.10008.5.1.4.1.1.2',
      SOPInstanceUID: sop,
      StudyInstanceUID: study,
      SeriesInstanceUID: series,
      FrameOfReferenceUID: study + '.1',
      Modality: options.modality ?? 'CT',
      ImageType: options.imageType ?? ['ORIGINAL', 'PRIMARY', 'AXIAL'],
      PatientName: 'Synthetic^Phantom',
      PatientID: 'SYNTHETIC',
      AccessionNumber: 'SYN0001',
      SeriesNumber: 1,
      InstanceNumber: k + 1,
      AcquisitionNumber: options.acquisitionNumber ?? 1,
      ImagePositionPatient: [-160, -160, (options.firstZMm ?? 0) - k * spacing],
      ImageOrientationPatient: options.orientation ?? [1, 0, 0, 0, 1, 0],
      PixelSpacing: [options.pixelSpacingMm ?? 0.7, options.pixelSpacingMm ?? 0.7],
      SliceThickness: spacing,
      Rows: rows,
      Columns: columns,
      SamplesPerPixel: 1,
      PhotometricInterpretation: 'MONOCHROME2',
      BitsAllocated: 16,
      BitsStored: 16,
      HighBit: 15,
      PixelRepresentation: 1,
      RescaleIntercept: 0,
      RescaleSlope: 1,
      PixelData: [pixels.buffer],
      _vrMap: { PixelData: 'OW' },
    };
    delete (dataset as { _meta?: unknown })._meta;

    const dict = new dcmjsData.DicomDict(
      dcmjsData.DicomMetaDictionary.denaturalizeDataset({
        FileMetaInformationVersion: new Uint8Array([0, 1]).buffer,
        MediaStorageSOPClassUID: dataset.SOPClassUID,
        MediaStorageSOPInstanceUID: sop,
        TransferSyntaxUID: '1.2.840.10008.1.2.1',
        ImplementationClassUID: '2.25.1',
      }),
    );
    dict.dict = dcmjsData.DicomMetaDictionary.denaturalizeDataset(dataset);

    const file = join(options.dir, `slice-${String(k).padStart(4, '0')}.dcm`);
    writeFileSync(file, Buffer.from(dict.write()));
    files.push(file);
    sopInstanceUids.push(sop);
  }
  return { files, studyInstanceUid: study, seriesInstanceUid: series, sopInstanceUids };
}
