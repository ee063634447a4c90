import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { NrrdError, readNrrd, writeNrrd } from '../../src/imaging/nrrd';
import { makeVolume } from '../../src/imaging/volume';
import { realCtDir } from '../helpers/shared';

const SHARED_CT64 = realCtDir('copdgene-ct64');

describe('NRRD', () => {
  it('reads the reference lung label map in ../shared', () => {
    const labels = readNrrd(join(SHARED_CT64, 'lm-64.nrrd'));

    expect(labels.dims).toEqual([64, 64, 79]);
    expect(labels.spacingMm[2]).toBeCloseTo(3.987, 3);
    expect(labels.originMm[0]).toBeCloseTo(-128.414, 3);
    expect(labels.data.some((v) => v > 0)).toBe(true);
  });

  it.each([true, false])('round-trips a volume (gzip %s)', (gzip) => {
    const file = join(mkdtempSync(join(tmpdir(), 'nrrd-')), 'v.nrrd');
    const data = Int16Array.from({ length: 2 * 3 * 4 }, (_, i) => i * 37 - 300);
    const volume = makeVolume(data, [2, 3, 4], [0.7, 0.7, 2.5], [-10, 20, -300.5]);

    writeNrrd(file, volume, { gzip });
    const back = readNrrd(file);

    expect(Array.from(back.data)).toEqual(Array.from(data));
    expect(back.spacingMm).toEqual([0.7, 0.7, 2.5]);
    expect(back.originMm).toEqual([-10, 20, -300.5]);
    expect(back.direction).toEqual(volume.direction);
  });

  it('BAD FILE - names the file that is not NRRD', () => {
    const file = join(SHARED_CT64, 'LICENSE.txt');

    expect(() => readNrrd(file)).toThrow(NrrdError);
    expect(() => readNrrd(file)).toThrow(/LICENSE\.txt/);
  });
});
