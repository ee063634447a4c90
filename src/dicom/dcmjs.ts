/**
 * The part of dcmjs the project uses, typed once: dcmjs ships no type
 * declarations. Every module that reads or writes DICOM datasets with dcmjs
 * imports it from here.
 */
export type DcmjsDataset = Record<string, unknown>;

export interface DcmjsDicomDict {
  dict: DcmjsDataset;
  write(): ArrayBuffer;
}

export interface DcmjsData {
  ReadBufferStream: new (buffer: ArrayBuffer) => unknown;
  DicomDict: new (meta: DcmjsDataset) => DcmjsDicomDict;
  DicomMessage: {
    readFile(
      buffer: ArrayBuffer,
      options?: Record<string, unknown>,
    ): { dict: DcmjsDataset; meta: DcmjsDataset };
    _read(
      stream: unknown,
      transferSyntaxUid: string,
      options: { ignoreErrors?: boolean; untilTag?: string; includeUntilTagValue?: boolean },
    ): DcmjsDataset;
  };
  DicomMetaDictionary: {
    naturalizeDataset(dataset: DcmjsDataset): DcmjsDataset;
    denaturalizeDataset(dataset: DcmjsDataset): DcmjsDataset;
  };
}

export interface DcmjsLog {
  setLevel(level: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'silent'): void;
  getLogger(name: string): DcmjsLog;
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
const dcmjs = require('dcmjs') as { data: DcmjsData; log: DcmjsLog };

export const dcmjsData = dcmjs.data;
export const dcmjsLog = dcmjs.log;
