import { z } from 'zod';

/** AE titles are at most 16 characters of the default repertoire (PS3.5 6.2, VR AE). */
const aeTitle = z
  .string()
  .min(1)
  .max(16)
  .regex(/^[\x20-\x5b\x5d-\x7e]+$/, 'AE title: printable ASCII without backslash');

/** The DICOM listener (DIMSE SCP). */
export const dicomSection = z
  .object({
    aeTitle: aeTitle.default('CT3DFLOW'),
    port: z.number().int().min(0).max(65535).default(11112),
    host: z.string().default('0.0.0.0'),
    /** Empty: any calling AE is accepted. Otherwise only those listed. */
    allowedCallingAes: z
      .array(z.object({ aeTitle, host: z.string().optional() }).strict())
      .default([]),
    /** Storage SOP classes other than CT that a PACS sends with a study. */
    otherStorageClasses: z
      .enum(['accept-and-drop', 'accept-and-keep', 'reject'])
      .default('accept-and-drop'),
    /** Concurrent associations; one more is rejected as transient (local limit). */
    maxAssociations: z.number().int().min(1).default(32),
    /**
     * Maximum Length announced in A-ASSOCIATE-AC (PS3.8 D.1); a P-DATA-TF
     * PDU above it aborts the association. dcmjs-dimse caps it at 262144.
     */
    maxPduLengthBytes: z.number().int().min(4096).max(262144).default(65536),
    /** An association with no PDU for this long is aborted. */
    associationIdleSeconds: z.number().positive().default(60),
  })
  .strict()
  .prefault({});
