import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { run, ServeProcess, startServe } from './helpers/node-process';

jest.setTimeout(600_000);

/** Debian puts pydicom's test files under dist-packages; ask Python where. */
function pydicomTestFiles(): string {
  const python = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
  const base = execFileSync(python, [
    '-c',
    'import pydicom, os; print(os.path.dirname(pydicom.__file__))',
  ])
    .toString()
    .trim();
  return join(base, 'data/test_files');
}

/** storescu proposes compressed syntaxes only when asked; pick the flag from the file's meta. */
function proposalFlag(file: string): string[] {
  const head = readFileSync(file).subarray(0, 4096).toString('latin1');
  const syntax = /1\.2\.840\.10008\.1\.2(\.[0-9]+)*/.exec(
    head.slice(head.indexOf('\x02\x00\x10\x00')),
  )?.[0];
  const flags: Record<string, string> = {
    '1.2.840.10008.1.2.5': '-xr',
    '1.2.840.10008.1.2.4.50': '-xy',
    '1.2.840.10008.1.2.4.51': '-xx',
    '1.2.840.10008.1.2.4.57': '-xs',
    '1.2.840.10008.1.2.4.70': '-xs',
    '1.2.840.10008.1.2.4.80': '-xt',
    '1.2.840.10008.1.2.4.81': '-xu',
    '1.2.840.10008.1.2.4.90': '-xv',
    '1.2.840.10008.1.2.4.91': '-xw',
    '1.2.840.10008.1.2.1.99': '-xd',
  };
  const flag = syntax === undefined ? undefined : flags[syntax];
  return flag === undefined ? [] : [flag];
}

type Outcome = 'stored' | 'refused-with-status' | 'refused-at-negotiation' | 'unreadable-by-sender';

function classify(output: string): Outcome | undefined {
  if (/Received Store Response \(Success\)/.test(output)) return 'stored';
  if (/Received Store Response \((Error|Refused|Failure|Warning)/i.test(output)) {
    return 'refused-with-status';
  }
  if (/No presentation context|Failed to send message|No valid Presentation Context/.test(output)) {
    return 'refused-at-negotiation';
  }
  if (
    /Bad DICOM file|No SOP Class or Instance UID|missing SOP class|cannot (open|read)/i.test(output)
  ) {
    return 'unreadable-by-sender';
  }
  return undefined;
}

const work = mkdtempSync(join(tmpdir(), 'ct3dflow-corpus-'));
let node: ServeProcess;

beforeAll(async () => {
  // Keep every storage class so each file goes through parsing and storage.
  node = await startServe({
    dataDir: join(work, 'data'),
    env: { CT3DFLOW__DICOM__OTHER_STORAGE_CLASSES: 'accept-and-keep' },
  });
});

afterAll(async () => {
  expect(await node.stop()).toBe(0);
  rmSync(work, { recursive: true, force: true });
});

it('the pydicom test files, one by one: each stored or refused with a status, node stays up', async () => {
  const dir = pydicomTestFiles();
  const files = readdirSync(dir)
    .filter((name) => name.endsWith('.dcm'))
    .sort();
  expect(files.length).toBeGreaterThan(50);

  const outcomes: Record<string, Outcome | undefined> = {};
  for (const name of files) {
    const file = join(dir, name);
    const sent = await run('storescu', [
      '-v',
      '-R',
      ...proposalFlag(file),
      '-aec',
      'CT3DFLOW',
      '127.0.0.1',
      String(node.dicomPort),
      file,
    ]);
    outcomes[name] = classify(sent.stdout + sent.stderr);

    const echo = await run('echoscu', ['-aec', 'CT3DFLOW', '127.0.0.1', String(node.dicomPort)]);
    expect({ after: name, echo: echo.code }).toEqual({ after: name, echo: 0 });
  }

  const unexplained = Object.entries(outcomes).filter(([, outcome]) => outcome === undefined);
  expect(unexplained).toEqual([]);
  expect(outcomes['CT_small.dcm']).toBe('stored');
  expect(Object.values(outcomes).filter((o) => o === 'stored').length).toBeGreaterThan(30);
  expect(node.proc.exitCode).toBeNull();
});
