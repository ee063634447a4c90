import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { buildProgram } from '../../src/cli/main';
import { UsageError } from '../../src/cli/errors';
import { planDataset, ManifestRow } from '../../src/phantom/dataset';

async function run(args: string[]): Promise<string> {
  const chunks: string[] = [];
  const stdout = jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    chunks.push(String(chunk));
    return true;
  });
  const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    await buildProgram().parseAsync(['node', 'ct3dflow', ...args]);
  } finally {
    stdout.mockRestore();
    stderr.mockRestore();
  }
  return chunks.join('');
}

describe('ct3dflow phantom', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'phantom-cli-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('writes one study with truth, masks and preview', async () => {
    const out = join(dir, 'study');
    const small = ['--matrix', '48', '--slice-thickness', '6'];
    const printed = await run([
      'phantom',
      '--out',
      out,
      '--seed',
      '3',
      ...small,
      '--pathology',
      'ggo',
      '--severity',
      '0.6',
      '--preview',
    ]);
    const summary = JSON.parse(printed) as { label: string; families: string[] };
    expect(summary.label).toBe('abnormal');
    expect(summary.families).toEqual(['ggo']);
    for (const file of [
      'truth.json',
      'lung-mask.nrrd',
      'lesion-mask.nrrd',
      'preview.png',
      'dicom/IM000001.dcm',
    ]) {
      expect(existsSync(join(out, file))).toBe(true);
    }
  });

  it('writes a dataset with a manifest of path, split, label and families', async () => {
    const out = join(dir, 'dataset');
    const counts = [
      '--train-normal',
      '1',
      '--validation-normal',
      '0',
      '--validation-abnormal',
      '2',
      '--test-normal',
      '0',
      '--test-abnormal',
      '1',
    ];
    await run([
      'phantom',
      'dataset',
      '--out',
      out,
      '--seed',
      '4',
      '--matrix',
      '40',
      '--slice-thickness',
      '8',
      '--format',
      'nrrd',
      ...counts,
    ]);
    const rows = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as ManifestRow[];
    expect(rows.map((r) => [r.split, r.label])).toEqual([
      ['train', 'normal'],
      ['validation', 'abnormal'],
      ['validation', 'abnormal'],
      ['test', 'abnormal'],
    ]);
    expect(rows[1].families).toEqual(['nodule']);
    expect(existsSync(join(out, rows[0].path, 'volume.nrrd'))).toBe(true);
    const csv = readFileSync(join(out, 'manifest.csv'), 'utf8').split('\n');
    expect(csv[0]).toBe('path,split,label,families,seed,pathology,severity,lesion_volume_ml');
  });

  it('splits a dataset into shards and completes the manifest in a last run', async () => {
    const out = join(dir, 'sharded');
    const args = ['phantom', 'dataset', '--out', out, '--seed', '5', '--matrix', '40'];
    const small = ['--slice-thickness', '8', '--format', 'nrrd', '--train-normal', '3'];
    const counts = [
      '--validation-normal',
      '0',
      '--validation-abnormal',
      '1',
      '--test-normal',
      '0',
      '--test-abnormal',
      '0',
    ];
    await run([...args, ...small, ...counts, '--shard', '0/2']);
    expect(existsSync(join(out, 'manifest.json'))).toBe(false);
    expect(existsSync(join(out, 'train/normal-0001/truth.json'))).toBe(true);
    expect(existsSync(join(out, 'train/normal-0002/truth.json'))).toBe(false);
    await run([...args, ...small, ...counts, '--shard', '1/2']);
    await run([...args, ...small, ...counts]);
    const rows = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as ManifestRow[];
    expect(rows.map((r) => r.path)).toEqual([
      'train/normal-0001',
      'train/normal-0002',
      'train/normal-0003',
      'validation/abnormal-0001',
    ]);
    await expect(run([...args, '--shard', '2/2'])).rejects.toThrow(/--shard: "2\/2"/);
  });

  it('plans the paper sizes with every family and a spread of severities', () => {
    const plan = planDataset(1, {
      trainNormal: 470,
      validationNormal: 50,
      validationAbnormal: 61,
      testNormal: 50,
      testAbnormal: 191,
    });
    expect(plan).toHaveLength(822);
    const testAbnormal = plan.filter((e) => e.split === 'test' && e.pathology !== 'none');
    expect(testAbnormal).toHaveLength(191);
    const families = new Set(testAbnormal.map((e) => e.pathology));
    expect(families.size).toBe(7);
    const severities = testAbnormal.map((e) => e.severity);
    expect(Math.min(...severities)).toBeLessThan(0.15);
    expect(Math.max(...severities)).toBeGreaterThan(0.9);
    expect(new Set(plan.map((e) => e.seed)).size).toBe(822);
  });

  it('BAD CALL - names the flag and value of bad input', async () => {
    const out = join(dir, 'x');
    await expect(
      run(['phantom', '--out', out, '--seed', '1', '--severity', 'abc']),
    ).rejects.toThrow(UsageError);
    await expect(
      run(['phantom', '--out', out, '--seed', '1', '--severity', 'abc']),
    ).rejects.toThrow(/--severity: "abc"/);
    await expect(run(['phantom', '--out', out, '--seed', '1', '--severity', '7'])).rejects.toThrow(
      /severity.*7/,
    );
    await expect(run(['phantom', '--seed', '1'])).rejects.toThrow(/--out/);
    await expect(run(['phantom', 'dataset', '--out', out, '--seed', 'x'])).rejects.toThrow(
      /--seed: "x"/,
    );
  });
});
