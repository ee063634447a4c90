/** SOP classes and transfer syntaxes the node negotiates (PS3.4 Annex B, PS3.5 10). */
export const SopClass = {
  Verification: '1.2.840.10008.1.1',
  CtImageStorage: '1.2.840.10008.5.1.4.1.1.2',
  EnhancedCtImageStorage: '1.2.840.10008.5.1.4.1.1.2.1',
} as const;

/** Every Storage SOP class UID begins with this root (PS3.4 B.5). */
export const STORAGE_CLASS_ROOT = '1.2.840.10008.5.1.4.1.1.';

export const ImplicitVrLittleEndian = '1.2.840.10008.1.2';
export const ExplicitVrLittleEndian = '1.2.840.10008.1.2.1';

/**
 * Syntaxes whose pixel data dcmjs-codecs can decode, so the imaging step can
 * read what is stored as received. JPEG Extended (.4.51) is not among them.
 */
export const COMPRESSED_SYNTAXES: readonly string[] = [
  '1.2.840.10008.1.2.5', // RLE Lossless
  '1.2.840.10008.1.2.4.50', // JPEG Baseline (Process 1)
  '1.2.840.10008.1.2.4.57', // JPEG Lossless, Non-Hierarchical (Process 14)
  '1.2.840.10008.1.2.4.70', // JPEG Lossless, First-Order Prediction (Process 14 SV1)
  '1.2.840.10008.1.2.4.80', // JPEG-LS Lossless
  '1.2.840.10008.1.2.4.81', // JPEG-LS Near-Lossless
  '1.2.840.10008.1.2.4.90', // JPEG 2000 Lossless Only
  '1.2.840.10008.1.2.4.91', // JPEG 2000
  '1.2.840.10008.1.2.4.201', // HTJ2K Lossless
  '1.2.840.10008.1.2.4.202', // HTJ2K Lossless RPCL
  '1.2.840.10008.1.2.4.203', // HTJ2K
];

/** Syntaxes accepted for CT and Enhanced CT. */
export const CT_SYNTAXES: readonly string[] = [
  ExplicitVrLittleEndian,
  ImplicitVrLittleEndian,
  ...COMPRESSED_SYNTAXES,
];
