import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { DatasetError, parseDatasetHeader } from '../../../src/storage/header';
import { filePreambleAndMeta } from '../../../src/storage/part10';
import { writeSyntheticSeries } from '../../interop/helpers/synthetic-ct';
import { dcmjsData } from '../../../src/dicom/dcmjs';

const work = mkdtempSync(join(tmpdir(), 'ct3dflow-header-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function datasetOf(part10: Buffer): Buffer {
  return part10.subarray(144 + part10.readUInt32LE(140));
}

describe('dataset header parsing', () => {
  it('reads the UIDs and geometry of a CT image, and no patient fields', () => {
    const series = writeSyntheticSeries({
      dir: join(work, 'ct'),
      slices: 1,
      rows: 32,
      columns: 32,
    });

    const header = parseDatasetHeader(
      datasetOf(readFileSync(series.files[0])),
      '1.2.840.10008.1.2.1',
    );

    expect(header).toMatchObject({
      sopInstanceUid: series.sopInstanceUids[0],
      seriesInstanceUid: series.seriesInstanceUid,
      studyInstanceUid: series.studyInstanceUid,
      accessionNumber: 'SYN0001',
    });
    expect(header.attributes).toMatchObject({
      modality: 'CT',
      imageType: ['ORIGINAL', 'PRIMARY', 'AXIAL'],
      imageOrientationPatient: [1, 0, 0, 0, 1, 0],
      pixelSpacingMm: [0.7, 0.7],
      rows: 32,
      columns: 32,
    });
    expect(JSON.stringify(header)).not.toMatch(/Synthetic\^Phantom|SYNTHETIC"/);
  });

  it('reads Enhanced CT geometry from the functional groups, one position per frame', () => {
    const dataset = {
      SOPClassUID: '1.2.840.10008.5.1.4.1.1.2.1',
      SOPInstanceUID: '1.2.3.4.5',
      StudyInstanceUID: '1.2.3',
      SeriesInstanceUID: '1.2.3.4',
      Modality: 'CT',
      NumberOfFrames: 3,
      Rows: 16,
      Columns: 16,
      SharedFunctionalGroupsSequence: [
        {
          PlaneOrientationSequence: [{ ImageOrientationPatient: [1, 0, 0, 0, 1, 0] }],
          PixelMeasuresSequence: [{ PixelSpacing: [0.5, 0.5], SliceThickness: 1 }],
        },
      ],
      PerFrameFunctionalGroupsSequence: [0, 1, 2].map((k) => ({
        PlanePositionSequence: [{ ImagePositionPatient: [0, 0, k] }],
      })),
    };
    const dict = new dcmjsData.DicomDict({});
    dict.dict = dcmjsData.DicomMetaDictionary.denaturalizeDataset(dataset);
    const part10 = Buffer.from(dict.write());

    const header = parseDatasetHeader(datasetOf(part10), '1.2.840.10008.1.2.1');

    expect(header.attributes).toMatchObject({
      numberOfFrames: 3,
      imageOrientationPatient: [1, 0, 0, 0, 1, 0],
      pixelSpacingMm: [0.5, 0.5],
      framePositionsMm: [
        [0, 0, 0],
        [0, 0, 1],
        [0, 0, 2],
      ],
    });
  });

  it('BAD DATASET - throws DatasetError for a dataset without SOPInstanceUID', () => {
    const dict = new dcmjsData.DicomDict({});
    dict.dict = dcmjsData.DicomMetaDictionary.denaturalizeDataset({
      SOPClassUID: '1.2.840.10008.5.1.4.1.1.2',
      Modality: 'CT',
    });

    expect(() =>
      parseDatasetHeader(datasetOf(Buffer.from(dict.write())), '1.2.840.10008.1.2.1'),
    ).toThrow(new DatasetError('dataset has no SOPInstanceUID'));
  });

  it('writes a File Meta group that DICOM readers accept (PS3.10 7.1)', () => {
    const meta = filePreambleAndMeta({
      mediaStorageSopClassUid: '1.2.840.10008.5.1.4.1.1.2',
      mediaStorageSopInstanceUid: '1.2.3.4.5',
      transferSyntaxUid: '1.2.840.10008.1.2',
      sourceApplicationEntityTitle: 'PACS',
    });

    expect(meta.subarray(128, 132).toString('ascii')).toBe('DICM');
    expect(meta.length).toBe(144 + meta.readUInt32LE(140));
    expect(meta.length % 2).toBe(0);
    expect(meta.includes(Buffer.from('1.2.840.10008.1.2\0', 'ascii'))).toBe(true);
  });
});
