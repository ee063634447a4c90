import { ConfigError } from '../../../src/config/errors';
import { loadConfig } from '../../../src/config/load';
import { UsageError } from '../../../src/cli/errors';
import { numberFlag, serveOverrides } from '../../../src/cli/commands/serve';
import { buildProgram } from '../../../src/cli/main';

describe('serve flags and the node/dicom/series config', () => {
  it('maps every serve flag to its config key, flags winning over the environment', () => {
    const overrides = serveOverrides({
      dataDir: '/srv/ct3dflow',
      dicomPort: 0,
      httpPort: 8081,
      aeTitle: 'NODE_A',
      seriesIdleSeconds: 5,
      databaseUrl: 'postgres://db.example/ct3dflow',
    });
    const env = { CT3DFLOW__DICOM__AE_TITLE: 'FROM_ENV', CT3DFLOW__DICOM__PORT: '104' };

    const config = loadConfig({ env, overrides });

    expect(config.node).toMatchObject({
      dataDir: '/srv/ct3dflow',
      httpPort: 8081,
      databaseUrl: 'postgres://db.example/ct3dflow',
    });
    expect(config.dicom.port).toBe(0);
    expect(config.dicom.aeTitle).toBe('NODE_A');
    expect(config.series.idleSeconds).toBe(5);
  });

  it('keeps the defaults a fresh clone starts with', () => {
    const config = loadConfig({ env: {}, overrides: {} });

    expect(config.dicom).toMatchObject({
      aeTitle: 'CT3DFLOW',
      port: 11112,
      otherStorageClasses: 'accept-and-drop',
      maxPduLengthBytes: 65536,
    });
    expect(config.node.dataDir).toBe('./data');
    expect(config.node.databaseUrl).toBeUndefined();
  });

  it.each([
    [{ dicom: { port: 70000 } }, 'dicom.port', '70000'],
    [{ dicom: { aeTitle: 'A_TITLE_LONGER_THAN_16' } }, 'dicom.aeTitle', 'A_TITLE_LONGER_THAN_16'],
    [{ series: { idleSeconds: -1 } }, 'series.idleSeconds', '-1'],
    [{ node: { databaseUrl: 'not a url' } }, 'node.databaseUrl', 'not a url'],
    [{ dicom: { otherStorageClasses: 'keep-all' } }, 'dicom.otherStorageClasses', 'keep-all'],
  ])('BAD CONFIG - %j names the key and quotes the value', (overrides, keyPath, value) => {
    expect(() => loadConfig({ env: {}, overrides })).toThrow(ConfigError);
    try {
      loadConfig({ env: {}, overrides });
    } catch (error) {
      expect((error as ConfigError).keyPath).toBe(keyPath);
      expect((error as ConfigError).message).toContain(value);
    }
  });

  it('BAD FLAG - a non-numeric port is a usage error naming the flag', () => {
    expect(() => numberFlag('--dicom-port')('eleven')).toThrow(UsageError);
    expect(() => numberFlag('--dicom-port')('eleven')).toThrow('--dicom-port: "eleven"');
    expect(numberFlag('--dicom-port')('0')).toBe(0);
  });

  it('has --help on serve, echo and send', () => {
    const program = buildProgram();
    for (const name of ['serve', 'echo', 'send']) {
      const command = program.commands.find((c) => c.name() === name);
      expect(command?.helpInformation()).toMatch(/--help/);
    }
    const serve = program.commands.find((c) => c.name() === 'serve')!.helpInformation();
    for (const flag of [
      '--config',
      '--data-dir',
      '--dicom-port',
      '--http-port',
      '--ae-title',
      '--series-idle-seconds',
      '--database-url',
    ]) {
      expect(serve).toContain(flag);
    }
  });
});
