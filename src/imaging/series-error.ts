/**
 * Why a series cannot become a volume for the flow. Each reason is a short
 * stable code that the series status and the API show as is.
 */
export const SERIES_REFUSAL_REASONS = [
  'no-images',
  'not-ct',
  'mixed-series',
  'unsupported-transfer-syntax',
  'unsupported-pixel-data',
  'bad-dicom',
  'mixed-geometry',
  'gantry-tilt',
  'oblique',
  'duplicate-positions',
  'missing-slices',
  'unequal-spacing',
  'slice-spacing-too-large',
  'too-few-slices',
] as const;

export type SeriesRefusalReason = (typeof SERIES_REFUSAL_REASONS)[number];

export class SeriesError extends Error {
  override name = 'SeriesError';

  constructor(
    readonly reason: SeriesRefusalReason,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${reason}: ${message}`, options);
  }
}
