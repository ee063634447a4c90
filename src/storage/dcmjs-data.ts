/**
 * The part of dcmjs' data API this module uses. dcmjs ships no type
 * declarations, so the shapes are stated here once.
 */
export interface DcmjsData {
  ReadBufferStream: new (buffer: ArrayBuffer) => unknown;
  DicomMessage: {
    _read(
      stream: unknown,
      transferSyntaxUid: string,
      options: { ignoreErrors?: boolean; untilTag?: string; includeUntilTagValue?: boolean },
    ): Record<string, unknown>;
  };
  DicomMetaDictionary: {
    naturalizeDataset(dataset: Record<string, unknown>): Record<string, unknown>;
  };
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
export const dcmjsData = (require('dcmjs') as { data: DcmjsData }).data;
