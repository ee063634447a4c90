import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { generatePhantom } from '../../src/phantom/generate';
import { PATHOLOGY_CHOICES } from '../../src/phantom/options';
import { STUDY_FILES, writeGeneratedStudy } from '../../src/phantom/study';

/**
 * Every phantom file must pass dicom3tools' dciodvfy without errors (issue
 * 3), for every pathology choice, since each one writes other attributes
 * (series description, lesion-dependent pixel ranges).
 */
function dciodvfyErrors(file: string): string[] {
  // dciodvfy reports on stderr; its exit status does not reflect errors.
  const run = spawnSync('dciodvfy', [file], { encoding: 'utf8' });
  if (run.error !== undefined) throw run.error;

  const report = `${run.stdout}${run.stderr}`;
  expect(report).toContain('CTImage');
  return report.split('\n').filter((line) => line.startsWith('Error'));
}

describe('phantom DICOM validated by dciodvfy', () => {
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'phantom-dciodvfy-'));
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each(PATHOLOGY_CHOICES)('pathology %s: every file passes without errors', (pathology) => {
    const studyDir = join(dir, pathology);
    const phantom = generatePhantom({
      seed: 23,
      pathology,
      severity: 0.7,
      matrix: 64,
      sliceThicknessMm: 10,
    });
    writeGeneratedStudy(studyDir, phantom, { preview: false });

    const dicomDir = join(studyDir, STUDY_FILES.dicomDir);
    const files = readdirSync(dicomDir).map((name) => join(dicomDir, name));
    expect(files.length).toBeGreaterThan(5);

    for (const file of files)
      expect({ file, errors: dciodvfyErrors(file) }).toEqual({ file, errors: [] });
  });
});
