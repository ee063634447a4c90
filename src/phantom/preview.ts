import {
  axialPlane,
  coronalPlane,
  drawContour,
  HuWindow,
  LUNG_WINDOW,
  montage,
  resizeNearest,
  RgbImage,
  windowToRgb,
} from '../imaging/render';
import { patientToIndex, Volume } from '../imaging/volume';
import { PhantomTruth } from './truth';

/**
 * A montage for people: three axial slices (upper, middle, lower lung) and a
 * coronal plane through the lungs, in a lung window, each tile resized to
 * square pixels. Lesion outlines are drawn in red when a lesion mask is given.
 */
export function phantomMontage(
  volumeHu: Volume,
  lesionMask?: Volume<Uint8Array>,
  window: HuWindow = LUNG_WINDOW,
  tilePx = 256,
  levels: number[] = [0.75, 0.55, 0.3],
): RgbImage {
  const [nI, nJ, nK] = volumeHu.dims;
  const tiles: RgbImage[] = [];

  for (const level of levels) {
    const k = Math.min(nK - 1, Math.max(0, Math.round(level * (nK - 1))));
    const image = windowToRgb(axialPlane(volumeHu, k), window);
    if (lesionMask !== undefined) drawContour(image, axialPlane(lesionMask, k), [255, 40, 40]);
    tiles.push(resizeNearest(image, tilePx, tilePx));
  }

  const j = Math.round(0.45 * (nJ - 1));
  const coronal = windowToRgb(coronalPlane(volumeHu, j), window);
  if (lesionMask !== undefined) drawContour(coronal, coronalPlane(lesionMask, j), [255, 40, 40]);
  const heightMm = nK * volumeHu.spacingMm[2];
  const widthMm = nI * volumeHu.spacingMm[0];
  tiles.push(
    resizeNearest(coronal, tilePx, Math.max(1, Math.round((tilePx * heightMm) / widthMm))),
  );
  return montage(tiles, tiles.length);
}

/**
 * Axial levels (fractions of the slice range) worth showing: through the
 * largest lesion first, then the upper and lower lung; the default three
 * for a normal study.
 */
export function previewLevels(volumeHu: Volume, truth: PhantomTruth): number[] {
  const largest = [...truth.lesions].sort((a, b) => b.volumeMl - a.volumeMl)[0];
  if (largest === undefined || largest.volumeMl === 0) return [0.75, 0.55, 0.3];
  const k = patientToIndex(volumeHu, largest.centreMm)[2];
  const level = Math.min(1, Math.max(0, k / (volumeHu.dims[2] - 1)));
  return [level, 0.75, 0.3];
}
