import type { Database, Queryable } from '../db/database';
import type { InstanceAttributes } from '../series/attributes';

/** One stored instance, as the `instances` row and its parents need it. */
export interface InstanceRecord {
  studyInstanceUid: string;
  seriesInstanceUid: string;
  sopInstanceUid: string;
  sopClassUid: string;
  transferSyntaxUid: string;
  accessionNumber?: string;
  callingAeTitle: string;
  /** Relative to the data folder. */
  path: string;
  sizeBytes: number;
  receivedAt: Date;
  attributes: InstanceAttributes;
}

interface Pending {
  record: InstanceRecord;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Records instances in the database with group commit: stores that finish
 * while a transaction is committing wait for the next one, which takes them
 * all. Each caller's promise settles only after the transaction holding its
 * row committed, so no store is acknowledged before its row is durable.
 */
export class InstanceRecorder {
  private queue: Pending[] = [];
  private flushing = false;

  constructor(private readonly db: Database) {}

  record(record: InstanceRecord): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ record, resolve, reject });
      if (!this.flushing) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.flushing = true;

    while (this.queue.length > 0) {
      const batch = this.queue;
      this.queue = [];

      try {
        await this.db.transaction(async (tx) => {
          for (const item of batch) await recordInstance(tx, item.record);
        });
        for (const item of batch) item.resolve();
      } catch (error) {
        // One bad row must not fail its neighbours: retry them one by one.
        if (batch.length === 1) batch[0].reject(error);
        else await this.recordEach(batch);
      }
    }
    this.flushing = false;
  }

  private async recordEach(batch: Pending[]): Promise<void> {
    for (const item of batch) {
      try {
        await this.db.transaction((tx) => recordInstance(tx, item.record));
        item.resolve();
      } catch (error) {
        item.reject(error);
      }
    }
  }
}

/**
 * Upserts study, series and instance. A new instance for a series that was
 * already complete reopens it: state back to receiving, generation + 1, so
 * it is judged and analysed again. An instance sent again (same SOP
 * Instance UID) only refreshes its row: a re-send is idempotent.
 */
export async function recordInstance(tx: Queryable, r: InstanceRecord): Promise<void> {
  await tx.query(
    `INSERT INTO studies (study_instance_uid, accession_number,
                          first_received_at, last_received_at)
     VALUES ($1, $2, $3, $3)
     ON CONFLICT (study_instance_uid) DO UPDATE SET
       accession_number = coalesce(excluded.accession_number, studies.accession_number),
       last_received_at = greatest(studies.last_received_at, excluded.last_received_at)`,
    [r.studyInstanceUid, r.accessionNumber ?? null, r.receivedAt],
  );

  await tx.query(
    `INSERT INTO series (series_instance_uid, study_instance_uid, modality, state,
                         first_received_at, last_received_at, calling_ae_title)
     VALUES ($1, $2, $3, 'receiving', $4, $4, $5)
     ON CONFLICT (series_instance_uid) DO NOTHING`,
    [
      r.seriesInstanceUid,
      r.studyInstanceUid,
      r.attributes.modality ?? null,
      r.receivedAt,
      r.callingAeTitle,
    ],
  );

  const inserted = await tx.query(
    `INSERT INTO instances (sop_instance_uid, series_instance_uid, sop_class_uid,
                            transfer_syntax_uid, path, size_bytes, received_at, attributes)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb)
     ON CONFLICT (sop_instance_uid) DO NOTHING
     RETURNING sop_instance_uid`,
    [
      r.sopInstanceUid,
      r.seriesInstanceUid,
      r.sopClassUid,
      r.transferSyntaxUid,
      r.path,
      r.sizeBytes,
      r.receivedAt,
      JSON.stringify(r.attributes),
    ],
  );

  if (inserted.rows.length === 1) {
    await tx.query(
      `UPDATE series SET
         generation = CASE WHEN state = 'receiving' THEN generation ELSE generation + 1 END,
         state = 'receiving',
         skip_reasons = '[]'::jsonb,
         eligibility = NULL,
         completed_at = NULL,
         instance_count = instance_count + 1,
         last_received_at = greatest(last_received_at, $2),
         calling_ae_title = $3
       WHERE series_instance_uid = $1`,
      [r.seriesInstanceUid, r.receivedAt, r.callingAeTitle],
    );
    return;
  }

  await tx.query(
    `UPDATE instances SET received_at = $2, size_bytes = $3, transfer_syntax_uid = $4
     WHERE sop_instance_uid = $1`,
    [r.sopInstanceUid, r.receivedAt, r.sizeBytes, r.transferSyntaxUid],
  );
  await tx.query(
    `UPDATE series SET last_received_at = greatest(last_received_at, $2)
     WHERE series_instance_uid = $1 AND state = 'receiving'`,
    [r.seriesInstanceUid, r.receivedAt],
  );
}
