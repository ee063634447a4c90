import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { PNG } from 'pngjs';

import { buildProgram } from '../../src/cli/main';
import { UsageError } from '../../src/cli/errors';
import { writeCtSeries } from '../../src/imaging/ct-writer';
import { readNrrd } from '../../src/imaging/nrrd';
import { syntheticChest } from '../../src/imaging/synthetic-chest';

async function runCli(args: string[]): Promise<string> {
  const chunks: string[] = [];
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    chunks.push(String(chunk));
    return true;
  });
  try {
    await buildProgram().parseAsync(['node', 'ct3dflow', ...args]);
  } finally {
    spy.mockRestore();
  }
  return chunks.join('');
}

describe('ct3dflow inspect', () => {
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'ct3dflow-inspect-'));
    const chest = syntheticChest([128, 128, 64], [2.5, 2.5, 2.5]);
    writeCtSeries(join(dir, 'series'), chest.volume, {
      order: 'shuffled',
      pixelPaddingValue: -2000,
      paddingMask: chest.padding,
    });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reports geometry, eligibility, lung volume and patches of a SYNTHETIC series as JSON', async () => {
    const out = join(dir, 'out');

    const report = JSON.parse(
      await runCli(['inspect', join(dir, 'series'), '--json', '--out', out]),
    );

    expect(report.geometry.dims).toEqual([128, 128, 64]);
    expect(report.eligible).toBe(true);
    expect(report.refusals).toEqual([]);
    expect(report.grid.spacingMm).toEqual([2, 2, 2]);
    expect(report.lungVolumeMl).toBeGreaterThan(500);
    expect(report.patches.count).toBeGreaterThan(0);
    expect(report.timingsSeconds.load).toBeGreaterThan(0);
    for (const file of report.files) expect(existsSync(file)).toBe(true);

    const mask = readNrrd(join(out, 'lung-mask-2mm.nrrd'));
    expect(mask.dims).toEqual(report.grid.dims);
    const axial = PNG.sync.read(readFileSync(join(out, 'axial.png')));
    expect([axial.width, axial.height]).toEqual([report.grid.dims[0] * 3, report.grid.dims[1] * 3]);
  }, 60_000);

  it('prints a readable report and shows refusals', async () => {
    const text = await runCli(['inspect', join(dir, 'series')]);
    process.env.CT3DFLOW__SERIES__ELIGIBILITY__MIN_SLICES = '100';
    const refused = await runCli(['inspect', join(dir, 'series')]).finally(() => {
      delete process.env.CT3DFLOW__SERIES__ELIGIBILITY__MIN_SLICES;
    });

    expect(text).toMatch(/^eligible {5}yes$/m);
    expect(text).toMatch(/^patches {6}\d+ of \d+ on the grid$/m);
    expect(refused).toMatch(/^eligible {5}no$/m);
    expect(refused).toMatch(/refused +too-few-slices: 64 slices, at least 100 needed/);
  }, 60_000);

  it('BAD CALL - names a series folder that does not exist', async () => {
    await expect(runCli(['inspect', join(dir, 'nowhere')])).rejects.toThrow(UsageError);
    await expect(runCli(['inspect', join(dir, 'nowhere')])).rejects.toThrow(
      /series-dir: ".*nowhere"/,
    );
  });
});
