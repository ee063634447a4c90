import { PNG } from 'pngjs';

import {
  axialPlane,
  coronalPlane,
  drawContour,
  encodePng,
  heatColor,
  makeRgbImage,
  montage,
  overlayHeat,
  RenderError,
  windowToRgb,
} from '../../src/imaging/render';
import { makeVolume } from '../../src/imaging/volume';

describe('render', () => {
  it('maps a HU window linearly to 8-bit gray (PS3.3 C.11.2.1.2.1)', () => {
    const plane = { width: 3, height: 1, data: new Float32Array([-2000, 40, 2000]) };
    const image = windowToRgb(plane, { centerHu: 40, widthHu: 400 });

    expect(Array.from(image.data)).toEqual([0, 0, 0, 128, 128, 128, 255, 255, 255]);
  });

  it('round-trips through PNG with the same pixels', () => {
    const image = makeRgbImage(5, 4, [10, 20, 30]);
    image.data.set([255, 0, 0], (2 + 5 * 3) * 3);

    const decoded = PNG.sync.read(encodePng(image));

    expect([decoded.width, decoded.height]).toEqual([5, 4]);
    expect(Array.from(decoded.data.subarray(0, 4))).toEqual([10, 20, 30, 255]);
    expect(Array.from(decoded.data.subarray((2 + 5 * 3) * 4, (2 + 5 * 3) * 4 + 3))).toEqual([
      255, 0, 0,
    ]);
  });

  it('draws only the border of a mask as its contour', () => {
    const mask = { width: 5, height: 5, data: new Uint8Array(25) };
    for (let y = 1; y <= 3; y++) for (let x = 1; x <= 3; x++) mask.data[x + 5 * y] = 1;
    const image = makeRgbImage(5, 5);

    drawContour(image, mask, [0, 255, 0]);

    const green = (x: number, y: number): boolean => image.data[(x + 5 * y) * 3 + 1] === 255;
    expect(green(1, 1)).toBe(true);
    expect(green(2, 1)).toBe(true);
    expect(green(2, 2)).toBe(false);
    expect(green(0, 0)).toBe(false);
  });

  it('cuts axial planes in place and coronal planes with superior at the top', () => {
    const volume = makeVolume(
      Float32Array.from({ length: 24 }, (_, n) => n),
      [2, 3, 4],
      [1, 1, 1],
    );

    expect(Array.from(axialPlane(volume, 1).data)).toEqual([6, 7, 8, 9, 10, 11]);
    expect(Array.from(coronalPlane(volume, 0).data)).toEqual([18, 19, 12, 13, 6, 7, 0, 1]);
  });

  it('tiles images with a gap and colours a heat map from cold to hot', () => {
    const tiles = montage([makeRgbImage(2, 2, [1, 1, 1]), makeRgbImage(3, 1, [2, 2, 2])], 2, 1);
    expect([tiles.width, tiles.height]).toEqual([7, 2]);
    expect(tiles.data[(4 + 7 * 0) * 3]).toBe(2);

    const image = makeRgbImage(2, 1);
    overlayHeat(image, { width: 2, height: 1, data: [0, 1] }, { min: 0, max: 1, alpha: 1 });
    expect(Array.from(image.data)).toEqual([...heatColor(0), ...heatColor(1)]);
    expect(heatColor(1)[0]).toBeGreaterThan(heatColor(1)[2]);
  });

  it('BAD CALL - refuses a plane whose size does not match', () => {
    expect(() =>
      windowToRgb({ width: 2, height: 2, data: [1] }, { centerHu: 0, widthHu: 1 }),
    ).toThrow(RenderError);
    expect(() => axialPlane(makeVolume(new Int16Array(8), [2, 2, 2], [1, 1, 1]), 2)).toThrow(
      /axial index 2/,
    );
  });
});
