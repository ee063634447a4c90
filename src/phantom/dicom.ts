import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { Volume } from '../imaging/volume';
import { PADDING_HU } from './generate';
import { PhantomTruth } from './truth';
import { derivedUid, IMPLEMENTATION_CLASS_UID } from './uids';
import { GENERATOR_VERSION } from './version';
import { dcmjsData } from '../dicom/dcmjs';

/** CT Image Storage (PS3.4 B.5) and Explicit VR Little Endian (PS3.5 A.2). */
export const CT_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.2';
export const EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1';
const RESCALE_INTERCEPT = -1024;

type Dataset = Record<string, unknown>;

export interface SeriesUids {
  StudyInstanceUID: string;
  SeriesInstanceUID: string;
  FrameOfReferenceUID: string;
}

/** The UIDs of a phantom study follow from its seed and resolved options. */
export function seriesUids(truth: PhantomTruth): SeriesUids {
  const identity = JSON.stringify(truth.options);
  return {
    StudyInstanceUID: derivedUid('study', identity),
    SeriesInstanceUID: derivedUid('series', identity),
    FrameOfReferenceUID: derivedUid('frame-of-reference', identity),
  };
}

/**
 * The attributes every slice shares: Patient, General Study, General
 * Series, Frame of Reference, General Equipment, Image Plane (orientation,
 * spacing), Image Pixel, CT Image, VOI LUT and SOP Common modules of the CT
 * Image IOD (PS3.3 A.3). The patient is visibly synthetic.
 */
function sharedHeader(volume: Volume, truth: PhantomTruth, uids: SeriesUids): Dataset {
  const seed = truth.seed;
  const [columns, rows] = volume.dims;
  const [dx, dy, dz] = volume.spacingMm;
  const date = '20260101';
  const time = '120000';
  const pad = truth.options.padOutsideScanCircle;
  const families = truth.families.length > 0 ? truth.families.join(',') : 'normal';

  return {
    SpecificCharacterSet: 'ISO_IR 100',
    ImageType: ['DERIVED', 'SECONDARY', 'AXIAL'],
    SOPClassUID: CT_IMAGE_STORAGE,
    StudyDate: date,
    SeriesDate: date,
    ContentDate: date,
    StudyTime: time,
    SeriesTime: time,
    ContentTime: time,
    AccessionNumber: `PH${seed}`,
    Modality: 'CT',
    Manufacturer: 'ct3dflow',
    InstitutionName: 'Synthetic phantom',
    ReferringPhysicianName: '',
    StudyDescription: 'CT CHEST PHANTOM',
    SeriesDescription: `Synthetic chest CT phantom (${families})`,
    ManufacturerModelName: 'ct3dflow-phantom',
    DerivationDescription: `Synthetic phantom, generator ${GENERATOR_VERSION}, seed ${seed}`,
    PatientName: { Alphabetic: `PHANTOM^SYNTHETIC^${seed}` },
    PatientID: `PHANTOM-${seed}`,
    PatientBirthDate: '',
    PatientSex: 'O',
    PatientIdentityRemoved: 'YES',
    DeidentificationMethod: 'Synthetic phantom: no patient data',
    PatientComments: 'Synthetic chest CT phantom, not a patient',
    BodyPartExamined: 'CHEST',
    SliceThickness: dz,
    KVP: 120,
    DataCollectionDiameter: 500,
    SoftwareVersions: GENERATOR_VERSION,
    ReconstructionDiameter: round(columns * dx),
    GantryDetectorTilt: 0,
    RotationDirection: 'CW',
    ConvolutionKernel: truth.options.kernel === 'sharp' ? 'SHARP' : 'SOFT',
    PatientPosition: 'HFS',
    StudyInstanceUID: uids.StudyInstanceUID,
    SeriesInstanceUID: uids.SeriesInstanceUID,
    StudyID: `PH${seed}`,
    SeriesNumber: 1,
    AcquisitionNumber: 1,
    ImageOrientationPatient: [1, 0, 0, 0, 1, 0],
    FrameOfReferenceUID: uids.FrameOfReferenceUID,
    PositionReferenceIndicator: '',
    SamplesPerPixel: 1,
    PhotometricInterpretation: 'MONOCHROME2',
    Rows: rows,
    Columns: columns,
    PixelSpacing: [dy, dx],
    BitsAllocated: 16,
    BitsStored: 16,
    HighBit: 15,
    PixelRepresentation: 1,
    ...(pad ? { PixelPaddingValue: PADDING_HU - RESCALE_INTERCEPT } : {}),
    BurnedInAnnotation: 'NO',
    WindowCenter: -600,
    WindowWidth: 1500,
    RescaleIntercept: RESCALE_INTERCEPT,
    RescaleSlope: 1,
    RescaleType: 'HU',
    _vrMap: { PixelData: 'OW', ...(pad ? { PixelPaddingValue: 'SS' } : {}) },
  };
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}

/**
 * Writes the volume as one CT Image Storage file per slice, Explicit VR
 * Little Endian, named IM000001.dcm upward from the lowest slice. Returns
 * the file paths.
 */
export function writeCtSeries(
  dir: string,
  volumeHu: Volume<Int16Array>,
  truth: PhantomTruth,
): string[] {
  mkdirSync(dir, { recursive: true });
  const uids = seriesUids(truth);
  const { DicomDict, DicomMetaDictionary } = dcmjsData;
  const shared = DicomMetaDictionary.denaturalizeDataset(sharedHeader(volumeHu, truth, uids));
  const [nx, ny, nz] = volumeHu.dims;
  const sliceSize = nx * ny;
  const files: string[] = [];

  for (let k = 0; k < nz; k++) {
    const sopInstanceUid = derivedUid('instance', uids.SeriesInstanceUID, k);
    const zMm = round(volumeHu.originMm[2] + k * volumeHu.spacingMm[2]);
    const pixels = volumeHu.data.slice(k * sliceSize, (k + 1) * sliceSize);
    // The stored value is HU minus the intercept (PS3.3 C.11.1.1.2, slope 1).
    for (let p = 0; p < pixels.length; p++) pixels[p] -= RESCALE_INTERCEPT;

    const perSlice = DicomMetaDictionary.denaturalizeDataset({
      SOPInstanceUID: sopInstanceUid,
      InstanceNumber: k + 1,
      ImagePositionPatient: [round(volumeHu.originMm[0]), round(volumeHu.originMm[1]), zMm],
      SliceLocation: zMm,
      PixelData: [pixels.buffer],
      _vrMap: { PixelData: 'OW' },
    });
    const meta = DicomMetaDictionary.denaturalizeDataset({
      FileMetaInformationVersion: new Uint8Array([0, 1]).buffer,
      MediaStorageSOPClassUID: CT_IMAGE_STORAGE,
      MediaStorageSOPInstanceUID: sopInstanceUid,
      TransferSyntaxUID: EXPLICIT_VR_LITTLE_ENDIAN,
      ImplementationClassUID: IMPLEMENTATION_CLASS_UID,
      ImplementationVersionName: 'CT3DFLOW_PH1',
    });
    const dict = new DicomDict(meta);
    dict.dict = { ...shared, ...perSlice };
    const file = join(dir, `IM${String(k + 1).padStart(6, '0')}.dcm`);
    writeFileSync(file, Buffer.from(dict.write()));
    files.push(file);
  }
  return files;
}
