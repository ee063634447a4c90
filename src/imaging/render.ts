import { writeFileSync } from 'node:fs';

import { PNG } from 'pngjs';

import { Volume, VoxelArray } from './volume';

/**
 * Previews for people: CT planes in a HU window, mask contours and colour
 * overlays on top, several panels tiled into one PNG. Nothing here is for
 * diagnosis; the DICOM Secondary Capture writer burns that notice in itself.
 */

/** 8-bit RGB pixels, row by row, 3 bytes per pixel; (0, 0) is the top left. */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array;
}

export type Rgb = [number, number, number];

/** A 2D plane cut from a volume: `data[x + width * y]`, y down the screen. */
export interface Plane<T extends ArrayLike<number> = Float32Array> {
  width: number;
  height: number;
  data: T;
}

export interface HuWindow {
  centerHu: number;
  widthHu: number;
}

/** Common CT windows (PS3.3 C.11.2.1.2 VOI LUT: linear window). */
export const LUNG_WINDOW: HuWindow = { centerHu: -600, widthHu: 1500 };
export const MEDIASTINUM_WINDOW: HuWindow = { centerHu: 40, widthHu: 400 };

export class RenderError extends RangeError {
  override name = 'RenderError';
}

export function makeRgbImage(width: number, height: number, fill: Rgb = [0, 0, 0]): RgbImage {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new RenderError(`image size must be positive integers, got ${width} x ${height}`);
  }
  const data = new Uint8Array(width * height * 3);
  for (let p = 0; p < width * height; p++) data.set(fill, p * 3);
  return { width, height, data };
}

/**
 * Linear window to 8-bit gray as PS3.3 C.11.2.1.2.1 defines it (values at or
 * below center - width/2 black, at or above center + width/2 white).
 */
export function windowToRgb(plane: Plane<ArrayLike<number>>, window: HuWindow): RgbImage {
  checkPlane(plane);
  const image = makeRgbImage(plane.width, plane.height);
  const low = window.centerHu - 0.5 - (window.widthHu - 1) / 2;
  const scale = 255 / Math.max(window.widthHu - 1, 1);

  for (let p = 0; p < plane.width * plane.height; p++) {
    const level = (plane.data[p] - low) * scale;
    const gray = level <= 0 ? 0 : level >= 255 ? 255 : (level + 0.5) | 0;
    image.data[p * 3] = gray;
    image.data[p * 3 + 1] = gray;
    image.data[p * 3 + 2] = gray;
  }
  return image;
}

function checkPlane(plane: Plane<ArrayLike<number>>): void {
  if (plane.data.length !== plane.width * plane.height) {
    throw new RenderError(
      `plane has ${plane.data.length} values, ${plane.width} x ${plane.height} needs ` +
        `${plane.width * plane.height}`,
    );
  }
}

function checkSameSize(image: RgbImage, plane: Plane<ArrayLike<number>>): void {
  checkPlane(plane);
  if (image.width !== plane.width || image.height !== plane.height) {
    throw new RenderError(
      `overlay is ${plane.width} x ${plane.height}, image is ${image.width} x ${image.height}`,
    );
  }
}

/**
 * An axial plane (fixed k) shown as radiologists read it when the volume is
 * in the usual LPS layout: i (patient left) to the right of the screen, j
 * (posterior) downwards.
 */
export function axialPlane<T extends VoxelArray>(volume: Volume<T>, k: number): Plane<T> {
  const [nI, nJ, nK] = volume.dims;
  if (!Number.isInteger(k) || k < 0 || k >= nK) {
    throw new RenderError(`axial index ${k} is outside 0..${nK - 1}`);
  }
  const start = k * nI * nJ;
  return { width: nI, height: nJ, data: volume.data.subarray(start, start + nI * nJ) as T };
}

/**
 * A coronal plane (fixed j): i across, k upwards (superior at the top, for
 * slices stored from inferior to superior as LPS sorting yields).
 */
export function coronalPlane(volume: Volume, j: number): Plane {
  const [nI, nJ, nK] = volume.dims;
  if (!Number.isInteger(j) || j < 0 || j >= nJ) {
    throw new RenderError(`coronal index ${j} is outside 0..${nJ - 1}`);
  }
  const data = new Float32Array(nI * nK);
  for (let k = 0; k < nK; k++) {
    const row = nK - 1 - k;
    for (let i = 0; i < nI; i++) data[i + nI * row] = volume.data[i + nI * (j + nJ * k)];
  }
  return { width: nI, height: nK, data };
}

/** Draws the border pixels of a mask (set pixels with an unset 4-neighbour). */
export function drawContour(image: RgbImage, mask: Plane<ArrayLike<number>>, color: Rgb): void {
  checkSameSize(image, mask);
  const { width, height, data } = mask;

  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = x + width * y;
      if (!data[p]) continue;
      const edge =
        x === 0 ||
        y === 0 ||
        x === width - 1 ||
        y === height - 1 ||
        !data[p - 1] ||
        !data[p + 1] ||
        !data[p - width] ||
        !data[p + width];
      if (edge) image.data.set(color, p * 3);
    }
  }
}

/** Blends a colour over the set pixels of a mask; `alpha` in [0, 1]. */
export function fillMask(
  image: RgbImage,
  mask: Plane<ArrayLike<number>>,
  color: Rgb,
  alpha: number,
): void {
  checkSameSize(image, mask);
  for (let p = 0; p < mask.width * mask.height; p++) {
    if (!mask.data[p]) continue;
    for (let c = 0; c < 3; c++) {
      const base = image.data[p * 3 + c];
      image.data[p * 3 + c] = Math.round(base + alpha * (color[c] - base));
    }
  }
}

/**
 * A "jet"-like ramp blue -> cyan -> yellow -> red for t in [0, 1]; enough to
 * tell low from high in a heatmap.
 */
export function heatColor(t: number): Rgb {
  const u = Math.min(1, Math.max(0, t));
  const r = Math.min(1, Math.max(0, 1.5 - Math.abs(4 * u - 3)));
  const g = Math.min(1, Math.max(0, 1.5 - Math.abs(4 * u - 2)));
  const b = Math.min(1, Math.max(0, 1.5 - Math.abs(4 * u - 1)));
  return [Math.round(r * 255), Math.round(g * 255), Math.round(b * 255)];
}

export interface HeatOverlayOptions {
  /** Values at or below `min` map to the cold end, at or above `max` to the hot end. */
  min: number;
  max: number;
  /** Opacity in [0, 1]. */
  alpha: number;
  /** Pixels whose value is below this (or NaN) are left untouched. */
  threshold?: number;
}

/** Fuses a scalar map (e.g. the Log P map) over the image in colour. */
export function overlayHeat(
  image: RgbImage,
  values: Plane<ArrayLike<number>>,
  options: HeatOverlayOptions,
): void {
  checkSameSize(image, values);
  const range = options.max - options.min;
  if (!(range > 0)) {
    throw new RenderError(`heat range must grow, got min ${options.min}, max ${options.max}`);
  }
  const threshold = options.threshold ?? -Infinity;

  for (let p = 0; p < values.width * values.height; p++) {
    const value = values.data[p];
    if (Number.isNaN(value) || value < threshold) continue;
    const color = heatColor((value - options.min) / range);
    for (let c = 0; c < 3; c++) {
      const base = image.data[p * 3 + c];
      image.data[p * 3 + c] = Math.round(base + options.alpha * (color[c] - base));
    }
  }
}

/** Outline of the rectangle [x0, x1] x [y0, y1] (inclusive, clipped to the image). */
export function drawRect(
  image: RgbImage,
  x0: number,
  y0: number,
  x1: number,
  y1: number,
  color: Rgb,
): void {
  const put = (x: number, y: number): void => {
    if (x < 0 || y < 0 || x >= image.width || y >= image.height) return;
    image.data.set(color, (x + image.width * y) * 3);
  };
  for (let x = x0; x <= x1; x++) {
    put(x, y0);
    put(x, y1);
  }
  for (let y = y0; y <= y1; y++) {
    put(x0, y);
    put(x1, y);
  }
}

/** Nearest-neighbour resize, e.g. to undo anisotropic pixels or enlarge a 2 mm plane. */
export function resizeNearest(image: RgbImage, width: number, height: number): RgbImage {
  const out = makeRgbImage(width, height);
  for (let y = 0; y < height; y++) {
    const sy = (((2 * y + 1) * image.height) / (2 * height)) | 0;
    for (let x = 0; x < width; x++) {
      const sx = (((2 * x + 1) * image.width) / (2 * width)) | 0;
      const from = (sx + image.width * sy) * 3;
      out.data.set(image.data.subarray(from, from + 3), (x + width * y) * 3);
    }
  }
  return out;
}

/** Tiles images left to right, top to bottom, each cell as large as the largest. */
export function montage(
  images: RgbImage[],
  columns: number,
  gapPx = 4,
  background: Rgb = [0, 0, 0],
): RgbImage {
  if (images.length === 0) throw new RenderError('montage needs at least one image');
  if (!Number.isInteger(columns) || columns < 1) {
    throw new RenderError(`montage columns must be a positive integer, got ${columns}`);
  }
  const cellWidth = Math.max(...images.map((im) => im.width));
  const cellHeight = Math.max(...images.map((im) => im.height));
  const cols = Math.min(columns, images.length);
  const rows = Math.ceil(images.length / cols);
  const out = makeRgbImage(
    cols * cellWidth + (cols - 1) * gapPx,
    rows * cellHeight + (rows - 1) * gapPx,
    background,
  );

  images.forEach((im, n) => {
    const left = (n % cols) * (cellWidth + gapPx);
    const top = Math.floor(n / cols) * (cellHeight + gapPx);
    for (let y = 0; y < im.height; y++) {
      const from = y * im.width * 3;
      out.data.set(im.data.subarray(from, from + im.width * 3), (left + out.width * (top + y)) * 3);
    }
  });
  return out;
}

/** PNG bytes (8-bit RGB, no alpha) through pngjs. */
export function encodePng(image: RgbImage): Buffer {
  const png = new PNG({ width: image.width, height: image.height, colorType: 2 });
  for (let p = 0; p < image.width * image.height; p++) {
    png.data[p * 4] = image.data[p * 3];
    png.data[p * 4 + 1] = image.data[p * 3 + 1];
    png.data[p * 4 + 2] = image.data[p * 3 + 2];
    png.data[p * 4 + 3] = 255;
  }
  return PNG.sync.write(png, { colorType: 2 });
}

export function writePng(file: string, image: RgbImage): void {
  writeFileSync(file, encodePng(image));
}
