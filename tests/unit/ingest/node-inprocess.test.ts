import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { validateConfig } from '../../../src/config/load';
import { createRootLogger } from '../../../src/log/logger';
import { RunningNode, startNode } from '../../../src/node/node';
import { StoreStatus } from '../../../src/scp/statuses';
import { AssociationError } from '../../../src/scu/association';
import { cEcho } from '../../../src/scu/echo';
import { cStoreFiles } from '../../../src/scu/send';
import { InstanceIngest } from '../../../src/storage/ingest';
import { InstanceRecorder } from '../../../src/storage/instance-recorder';
import { writeSyntheticSeries } from '../../interop/helpers/synthetic-ct';

jest.setTimeout(120_000);

const log = createRootLogger('error');
const work = mkdtempSync(join(tmpdir(), 'ct3dflow-inprocess-'));
let node: RunningNode;

function peer(callingAeTitle = 'TESTSCU', calledAeTitle = 'CT3DFLOW') {
  return { host: '127.0.0.1', port: node.dicomPort, calledAeTitle, callingAeTitle };
}

async function seriesRow(uid: string) {
  const { rows } = await node.db.query<{
    state: string;
    generation: number;
    instance_count: number;
  }>('SELECT state, generation, instance_count FROM series WHERE series_instance_uid = $1', [uid]);
  return rows[0];
}

async function waitForState(uid: string, state: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if ((await seriesRow(uid))?.state === state) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`series ${uid} never reached ${state}: ${JSON.stringify(await seriesRow(uid))}`);
}

/** The dataset bytes of a Part 10 file, as an SCU puts them on the wire. */
function datasetBytes(file: string): Buffer {
  const bytes = readFileSync(file);
  const metaLength = bytes.readUInt32LE(140);
  return bytes.subarray(144 + metaLength);
}

beforeAll(async () => {
  const config = validateConfig({
    node: { dataDir: join(work, 'data'), httpPort: 0, httpHost: '127.0.0.1' },
    dicom: {
      port: 0,
      host: '127.0.0.1',
      maxAssociations: 2,
      allowedCallingAes: [{ aeTitle: 'TESTSCU' }, { aeTitle: 'OTHERSCU', host: '127.0.0.1' }],
    },
    series: { idleSeconds: 1, eligibility: { minSlices: 5 } },
  });
  node = await startNode(config, { log });
});

afterAll(async () => {
  await node?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe('node in process: dcmjs-dimse SCU -> SCP -> disk and database', () => {
  it('answers C-ECHO', async () => {
    expect(await cEcho(peer())).toBe(0x0000);
  });

  it('BAD AE - rejects an unknown called AE title (reason 7) and calling AE title (reason 3)', async () => {
    await expect(cEcho(peer('TESTSCU', 'NOTME'))).rejects.toThrow(/result 1, source 1, reason 7/);
    await expect(cEcho(peer('STRANGER'))).rejects.toThrow(AssociationError);
    await expect(cEcho(peer('STRANGER'))).rejects.toThrow(/result 1, source 1, reason 3/);
  });

  it('BAD LOAD - rejects an association over the limit as transient (source 3, reason 2)', async () => {
    const idle = [connect(node.dicomPort, '127.0.0.1'), connect(node.dicomPort, '127.0.0.1')];
    await Promise.all(idle.map((s) => new Promise((resolve) => s.once('connect', resolve))));
    try {
      await expect(cEcho(peer())).rejects.toThrow(/result 2, source 3, reason 2/);
    } finally {
      for (const socket of idle) socket.destroy();
    }
  });

  it.each([
    ['an A-ASSOCIATE-RQ announcing 4 GiB', Buffer.from([0x01, 0, 0xff, 0xff, 0xff, 0xff])],
    ['bytes that are no PDU at all', Buffer.from('GET / HTTP/1.1\r\n\r\n')],
  ])('BAD PDU - closes the connection on %s and stays up', async (_what, bytes) => {
    const socket = connect(node.dicomPort, '127.0.0.1');
    const closed = new Promise((resolve) => socket.once('close', resolve));
    socket.on('error', () => undefined);
    socket.write(bytes);

    await closed;
    expect(await cEcho(peer())).toBe(0x0000);
  });

  it('stores a series, records it, completes it and queues its analysis', async () => {
    const synthetic = writeSyntheticSeries({ dir: join(work, 'series-a'), slices: 6 });

    const results = await cStoreFiles(peer(), synthetic.files);

    expect(results.map((r) => r.status)).toEqual(synthetic.files.map(() => 0x0000));
    for (const sop of synthetic.sopInstanceUids) {
      const path = join(
        node.dataDir,
        'instances',
        synthetic.studyInstanceUid,
        synthetic.seriesInstanceUid,
        `${sop}.dcm`,
      );
      expect(existsSync(path)).toBe(true);
      // A Part 10 file whose meta names what the command said.
      const stored = readFileSync(path);
      expect(stored.subarray(128, 132).toString('ascii')).toBe('DICM');
      expect(stored.includes(Buffer.from(sop, 'ascii'))).toBe(true);
    }

    const { rows } = await node.db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM instances WHERE series_instance_uid = $1',
      [synthetic.seriesInstanceUid],
    );
    expect(rows[0].n).toBe(6);

    await waitForState(synthetic.seriesInstanceUid, 'queued');
    const jobs = await node.db.query<{ dedupe_key: string; payload: unknown }>(
      `SELECT dedupe_key, payload FROM jobs WHERE kind = 'analyze' AND dedupe_key LIKE $1`,
      [`analyze:${synthetic.seriesInstanceUid}:%`],
    );
    expect(jobs.rows).toEqual([
      {
        dedupe_key: `analyze:${synthetic.seriesInstanceUid}:0`,
        payload: { seriesInstanceUid: synthetic.seriesInstanceUid, generation: 0 },
      },
    ]);

    // A re-send is idempotent: no new rows, the series is not reopened.
    await cStoreFiles(peer(), synthetic.files.slice(0, 2));
    expect(await seriesRow(synthetic.seriesInstanceUid)).toEqual({
      state: 'queued',
      generation: 0,
      instance_count: 6,
    });

    // A late new instance reopens the series; it is judged and queued again.
    const late = writeSyntheticSeries({
      dir: join(work, 'series-a-late'),
      slices: 1,
      studyInstanceUid: synthetic.studyInstanceUid,
      seriesInstanceUid: synthetic.seriesInstanceUid,
      firstZMm: 1.25,
    });
    await cStoreFiles(peer('OTHERSCU'), late.files);
    expect((await seriesRow(synthetic.seriesInstanceUid)).generation).toBe(1);
    await waitForState(synthetic.seriesInstanceUid, 'queued');
    const again = await node.db.query(`SELECT 1 FROM jobs WHERE dedupe_key = $1`, [
      `analyze:${synthetic.seriesInstanceUid}:1`,
    ]);
    expect(again.rows).toHaveLength(1);
  });

  it('skips an ineligible series with its reasons', async () => {
    const synthetic = writeSyntheticSeries({ dir: join(work, 'series-b'), slices: 2 });

    await cStoreFiles(peer(), synthetic.files);
    await waitForState(synthetic.seriesInstanceUid, 'skipped');

    const { rows } = await node.db.query<{ skip_reasons: Array<{ rule: string }> }>(
      'SELECT skip_reasons FROM series WHERE series_instance_uid = $1',
      [synthetic.seriesInstanceUid],
    );
    expect(rows[0].skip_reasons.map((r) => r.rule)).toEqual(['min-slices']);
  });
});

describe('InstanceIngest refusals (real database, real files)', () => {
  const context = {
    associationId: 'test',
    callingAeTitle: 'TESTSCU',
    remoteAddress: '127.0.0.1',
    sopClassUid: '1.2.840.10008.5.1.4.1.1.2',
    transferSyntaxUid: '1.2.840.10008.1.2.1',
    disposition: 'keep' as const,
  };

  async function store(bytes: Buffer, sopInstanceUid: string) {
    const incomingDir = join(node.dataDir, 'incoming', 'test-node');
    mkdirSync(incomingDir, { recursive: true });
    const ingest = new InstanceIngest(
      node.dataDir,
      incomingDir,
      new InstanceRecorder(node.db),
      log,
    );
    const sink = ingest.open({ ...context, sopInstanceUid });
    sink.stream.end(bytes);
    return sink.finish();
  }

  it('BAD DATASET - answers 0xC000 for bytes that are not a dataset', async () => {
    const outcome = await store(Buffer.from('this is not DICOM at all, not even close'), '1.2.3');

    expect(outcome.status).toBe(StoreStatus.CannotUnderstand);
    expect(outcome.errorComment?.length).toBeLessThanOrEqual(64);
  });

  it('BAD DATASET - answers 0xA900 when the SOP Instance UID differs from the command', async () => {
    const synthetic = writeSyntheticSeries({ dir: join(work, 'mismatch'), slices: 1 });

    const outcome = await store(datasetBytes(synthetic.files[0]), '1.2.3.999');

    expect(outcome.status).toBe(StoreStatus.DatasetDoesNotMatchSopClass);
  });

  it('BAD UID - answers 0xC000 for a series UID that would escape the data folder', async () => {
    const synthetic = writeSyntheticSeries({
      dir: join(work, 'traversal'),
      slices: 1,
      seriesInstanceUid: '1.2/../../../tmp',
    });

    const outcome = await store(datasetBytes(synthetic.files[0]), synthetic.sopInstanceUids[0]);

    expect(outcome).toEqual({
      status: StoreStatus.CannotUnderstand,
      errorComment: expect.stringMatching(/SeriesInstanceUID/),
    });
    expect(existsSync(join(node.dataDir, 'tmp'))).toBe(false);
  });
});
