import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { readNrrd } from '../../src/imaging/nrrd';
import { loadSeriesDirectory } from '../../src/imaging/series';
import { CT_IMAGE_STORAGE, EXPLICIT_VR_LITTLE_ENDIAN } from '../../src/phantom/dicom';
import { generatePhantom } from '../../src/phantom/generate';
import { STUDY_FILES, writeGeneratedStudy } from '../../src/phantom/study';
import { PhantomTruth } from '../../src/phantom/truth';
import { dcmjsData } from '../../src/dicom/dcmjs';

function readDicom(file: string): Record<string, unknown> {
  const bytes = readFileSync(file);
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  const parsed = dcmjsData.DicomMessage.readFile(buffer);
  return {
    ...dcmjsData.DicomMetaDictionary.naturalizeDataset(parsed.meta),
    ...dcmjsData.DicomMetaDictionary.naturalizeDataset(parsed.dict),
  };
}

describe('phantom study on disk', () => {
  const options = {
    seed: 17,
    pathology: 'nodule' as const,
    severity: 0.8,
    matrix: 64,
    sliceThicknessMm: 5,
  };
  const phantom = generatePhantom(options);
  let dir: string;
  let files: string[];

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'phantom-dicom-'));
    writeGeneratedStudy(dir, phantom, { preview: true });
    const dicomDir = join(dir, STUDY_FILES.dicomDir);
    files = readdirSync(dicomDir)
      .sort()
      .map((f) => join(dicomDir, f));
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes one CT Image Storage file per slice with stored values = HU + 1024', () => {
    expect(files).toHaveLength(phantom.volumeHu.dims[2]);
    const [nx, ny] = phantom.volumeHu.dims;
    const k = 7;
    const ds = readDicom(files[k]);
    expect(ds.SOPClassUID).toBe(CT_IMAGE_STORAGE);
    expect(ds.TransferSyntaxUID).toBe(EXPLICIT_VR_LITTLE_ENDIAN);
    expect(ds.Modality).toBe('CT');
    expect(ds.Rows).toBe(ny);
    expect(ds.Columns).toBe(nx);
    expect(ds.RescaleIntercept).toBe(-1024);
    expect(ds.RescaleSlope).toBe(1);
    expect(ds.PixelPaddingValue).toBe(-2000);
    expect(String(ds.PatientID)).toMatch(/^PHANTOM-/);
    expect(ds.InstanceNumber).toBe(k + 1);
    const position = ds.ImagePositionPatient as number[];
    expect(position[2]).toBeCloseTo(phantom.volumeHu.originMm[2] + k * 5, 3);

    const stored = new Int16Array((ds.PixelData as ArrayBuffer[])[0]);
    const expected = phantom.volumeHu.data.subarray(k * nx * ny, (k + 1) * nx * ny);
    expect(stored).toHaveLength(nx * ny);
    expect(Array.from(stored, (v) => v - 1024)).toEqual(Array.from(expected));
  });

  it('gives every instance its own 2.25 UID and repeats UIDs for the same phantom', () => {
    const uids = files.map((f) => readDicom(f).SOPInstanceUID as string);
    expect(new Set(uids).size).toBe(files.length);
    for (const uid of uids) {
      expect(uid).toMatch(/^2\.25\.[1-9][0-9]*$/);
      expect(uid.length).toBeLessThanOrEqual(64);
    }
    const truth = JSON.parse(readFileSync(join(dir, STUDY_FILES.truth), 'utf8')) as PhantomTruth;
    const first = readDicom(files[0]);
    expect(first.StudyInstanceUID).toBe(truth.dicom?.StudyInstanceUID);
    expect(first.SeriesInstanceUID).toBe(truth.dicom?.SeriesInstanceUID);
    expect(first.FrameOfReferenceUID).toBe(truth.dicom?.FrameOfReferenceUID);

    const again = mkdtempSync(join(tmpdir(), 'phantom-dicom-again-'));
    try {
      writeGeneratedStudy(again, generatePhantom(options));
      const againFirst = readDicom(join(again, STUDY_FILES.dicomDir, 'IM000001.dcm'));
      expect(againFirst.SOPInstanceUID).toBe(first.SOPInstanceUID);
      expect(againFirst.StudyInstanceUID).toBe(first.StudyInstanceUID);
    } finally {
      rmSync(again, { recursive: true, force: true });
    }
  });

  it('loads back through the node series loader on the same grid', async () => {
    const series = await loadSeriesDirectory(join(dir, STUDY_FILES.dicomDir), {
      minSlices: 1,
      maxSliceSpacingMm: 10,
    });
    expect(series.volume.dims).toEqual(phantom.volumeHu.dims);
    expect(series.volume.originMm[2]).toBeCloseTo(phantom.volumeHu.originMm[2], 3);
    expect(series.volume.spacingMm[0]).toBeCloseTo(phantom.volumeHu.spacingMm[0], 3);
    // The loader may map padding differently; compare the voxels inside the scan circle.
    let differing = 0;
    for (let n = 0; n < series.volume.data.length; n++) {
      const v = phantom.volumeHu.data[n];
      if (v !== -3024 && series.volume.data[n] !== v) differing += 1;
    }
    expect(differing).toBe(0);
  });

  it('writes masks aligned with the series and truth.json', () => {
    const lung = readNrrd(join(dir, STUDY_FILES.lungMask));
    const lesion = readNrrd(join(dir, STUDY_FILES.lesionMask));
    expect(lung.dims).toEqual(phantom.volumeHu.dims);
    expect(lung.originMm).toEqual(phantom.volumeHu.originMm);
    expect(
      Buffer.from(lesion.data.buffer).equals(Buffer.from(phantom.lesionMask.data.buffer)),
    ).toBe(true);

    const truth = JSON.parse(readFileSync(join(dir, STUDY_FILES.truth), 'utf8')) as PhantomTruth;
    expect(truth.generator.name).toBe('ct3dflow-phantom');
    expect(truth.seed).toBe(17);
    expect(truth.masks).toEqual({ lung: STUDY_FILES.lungMask, lesion: STUDY_FILES.lesionMask });
    expect(readFileSync(join(dir, STUDY_FILES.preview)).subarray(1, 4).toString()).toBe('PNG');
  });
});
