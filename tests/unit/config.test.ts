import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { ConfigError } from '../../src/config/errors';
import { envOverrides, loadConfig } from '../../src/config/load';

function writeConfig(content: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'ct3dflow-config-')), 'config.json');
  writeFileSync(file, content);
  return file;
}

describe('config', () => {
  it('fills every default when nothing is given', () => {
    const config = loadConfig({ file: writeConfig('{}'), env: {} });

    expect(config.dicom.aeTitle).toBe('CT3DFLOW');
    expect(config.series.idleSeconds).toBe(30);
    expect(config.node.databaseUrl).toBeUndefined();
  });

  it('lets environment win over the file and flags win over both', () => {
    const file = writeConfig('{"dicom": {"port": 104, "aeTitle": "FILE"}}');
    const env = { CT3DFLOW__DICOM__PORT: '4242', CT3DFLOW__DICOM__AE_TITLE: 'ENV' };

    const config = loadConfig({ file, env, overrides: { dicom: { aeTitle: 'FLAG' } } });

    expect(config.dicom.port).toBe(4242);
    expect(config.dicom.aeTitle).toBe('FLAG');
  });

  it('maps nested environment names to camelCase keys', () => {
    const tree = envOverrides({ CT3DFLOW__SERIES__ELIGIBILITY__MIN_SLICES: '40', OTHER: 'x' });

    expect(tree).toEqual({ series: { eligibility: { minSlices: 40 } } });
  });

  it('BAD CONFIG - names the key path and quotes the value', () => {
    const file = writeConfig('{"dicom": {"port": 70000}}');

    expect(() => loadConfig({ file, env: {} })).toThrow(ConfigError);
    expect(() => loadConfig({ file, env: {} })).toThrow(/dicom\.port.*70000/);
  });

  it('BAD CONFIG - refuses an AE title longer than 16 characters', () => {
    const env = { CT3DFLOW__DICOM__AE_TITLE: 'A_VERY_LONG_AE_TITLE' };

    expect(() => loadConfig({ file: writeConfig('{}'), env })).toThrow(
      /dicom\.aeTitle.*A_VERY_LONG_AE_TITLE/,
    );
  });

  it('BAD CONFIG - refuses an unknown key instead of ignoring it', () => {
    const file = writeConfig('{"series": {"idleSecs": 5}}');

    expect(() => loadConfig({ file, env: {} })).toThrow(/series.*idleSecs/);
  });

  it('BAD CONFIG - refuses a node id that is not a safe folder name', () => {
    const env = { CT3DFLOW__QUEUE__NODE_ID: '..' };

    expect(() => loadConfig({ file: writeConfig('{}'), env })).toThrow(/queue\.nodeId.*"\.\."/);
  });

  it('BAD CONFIG - names a file that is not JSON', () => {
    const file = writeConfig('dicom: {}');

    expect(() => loadConfig({ file, env: {} })).toThrow(new RegExp(file));
  });
});
