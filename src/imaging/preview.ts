import { PatchGrid } from './patches';
import {
  axialPlane,
  coronalPlane,
  drawContour,
  drawRect,
  LUNG_WINDOW,
  Plane,
  resizeNearest,
  RgbImage,
  windowToRgb,
} from './render';
import { Volume } from './volume';

/**
 * Preview images of a preprocessed series for people checking the node:
 * the 2 mm volume in a lung window, the lung contour in green and the
 * outlines of the patches that cross the plane in yellow.
 */

const LUNG_CONTOUR: [number, number, number] = [0, 230, 0];
const PATCH_OUTLINE: [number, number, number] = [255, 210, 0];
/** The 2 mm grid is small on screen; each voxel becomes this many pixels. */
const ZOOM = 3;

function zoomed(image: RgbImage): RgbImage {
  return resizeNearest(image, image.width * ZOOM, image.height * ZOOM);
}

/** Axial plane at slice k. */
export function axialPreview(
  hu: Volume<Float32Array>,
  lung: Volume<Uint8Array>,
  grid: PatchGrid,
  k: number,
): RgbImage {
  const image = zoomed(windowToRgb(axialPlane(hu, k), LUNG_WINDOW));
  drawContour(image, zoomPlane(axialPlane(lung, k)), LUNG_CONTOUR);

  for (const [i, j, kk] of grid.origins) {
    if (k < kk || k >= kk + grid.sizeVoxels) continue;
    const size = grid.sizeVoxels * ZOOM;
    drawRect(image, i * ZOOM, j * ZOOM, i * ZOOM + size - 1, j * ZOOM + size - 1, PATCH_OUTLINE);
  }
  return image;
}

/** Coronal plane at row j, superior at the top. */
export function coronalPreview(
  hu: Volume<Float32Array>,
  lung: Volume<Uint8Array>,
  grid: PatchGrid,
  j: number,
): RgbImage {
  const image = zoomed(windowToRgb(coronalPlane(hu, j), LUNG_WINDOW));
  drawContour(image, zoomPlane(coronalPlane(lung, j)), LUNG_CONTOUR);

  const nK = hu.dims[2];
  for (const [i, jj, k] of grid.origins) {
    if (j < jj || j >= jj + grid.sizeVoxels) continue;
    const size = grid.sizeVoxels * ZOOM;
    // Rows of the coronal image run from the last slice (top) to the first.
    const top = (nK - (k + grid.sizeVoxels)) * ZOOM;
    drawRect(image, i * ZOOM, top, i * ZOOM + size - 1, top + size - 1, PATCH_OUTLINE);
  }
  return image;
}

function zoomPlane(plane: Plane<ArrayLike<number>>): Plane<Uint8Array> {
  const width = plane.width * ZOOM;
  const height = plane.height * ZOOM;
  const data = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      data[x + width * y] = plane.data[((x / ZOOM) | 0) + plane.width * ((y / ZOOM) | 0)] ? 1 : 0;
    }
  }
  return { width, height, data };
}
