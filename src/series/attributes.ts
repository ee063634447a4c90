/**
 * What the node records about each instance (the `instances.attributes`
 * column): the values series completion and the eligibility rules need.
 * Never a patient name, ID or birth date.
 */
export interface InstanceAttributes {
  sopClassUid: string;
  modality?: string;
  /** ImageType (0008,0008), e.g. ORIGINAL\PRIMARY\AXIAL or ...\LOCALIZER. */
  imageType?: string[];
  /** ImageOrientationPatient: row then column direction cosines (LPS). */
  imageOrientationPatient?: number[];
  /** ImagePositionPatient of the first voxel, in mm (LPS). */
  imagePositionPatientMm?: number[];
  /** PixelSpacing: row spacing then column spacing, in mm. */
  pixelSpacingMm?: number[];
  rows?: number;
  columns?: number;
  sliceThicknessMm?: number;
  acquisitionNumber?: number;
  instanceNumber?: number;
  frameOfReferenceUid?: string;
  /** Enhanced CT: the frame count and each frame's position (mm). */
  numberOfFrames?: number;
  framePositionsMm?: number[][];
}
