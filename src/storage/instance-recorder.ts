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
        // One statement is atomic on its own; a batch needs a transaction.
        if (batch.length === 1) await recordInstance(this.db, batch[0].record);
        else {
          await this.db.transaction(async (tx) => {
            for (const item of batch) await recordInstance(tx, item.record);
          });
        }
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
        await recordInstance(this.db, item.record);
        item.resolve();
      } catch (error) {
        item.reject(error);
      }
    }
  }
}

/**
 * Upserts study, series and instance in ONE statement (one round trip,
 * atomic without an explicit transaction). A new instance for a series
 * that was already complete reopens it: state back to receiving,
 * generation + 1, so it is judged and analysed again. An instance sent
 * again (same SOP Instance UID) only refreshes its row: a re-send is
 * idempotent and does not reopen its series.
 *
 * Times come from the database's clock (now()), the same clock series
 * completion reads, so nodes with skewed clocks agree on idle time.
 *
 * Data-modifying CTEs share one snapshot, so `is_new` comes from the
 * instance INSERT's RETURNING; the foreign key from instances to series
 * is checked at the end of the statement, after the series row exists.
 */
const RECORD_INSTANCE = `
  WITH new_instance AS (
    INSERT INTO instances (sop_instance_uid, series_instance_uid, sop_class_uid,
                           transfer_syntax_uid, path, size_bytes, received_at, attributes)
    VALUES ($1, $2, $3, $4, $5, $6, now(), $7::jsonb)
    ON CONFLICT (sop_instance_uid) DO NOTHING
    RETURNING 1
  ),
  is_new AS (SELECT count(*)::int AS n FROM new_instance),
  study AS (
    INSERT INTO studies (study_instance_uid, accession_number,
                         first_received_at, last_received_at)
    VALUES ($8, $9, now(), now())
    ON CONFLICT (study_instance_uid) DO UPDATE SET
      accession_number = coalesce(excluded.accession_number, studies.accession_number),
      last_received_at = greatest(studies.last_received_at, excluded.last_received_at)
  ),
  resent AS (
    UPDATE instances SET received_at = now(), size_bytes = $6, transfer_syntax_uid = $4
    WHERE sop_instance_uid = $1 AND (SELECT n FROM is_new) = 0
  )
  INSERT INTO series AS s (series_instance_uid, study_instance_uid, modality, state,
                           instance_count, first_received_at, last_received_at,
                           calling_ae_title)
  VALUES ($2, $8, $10, 'receiving', 1, now(), now(), $11)
  ON CONFLICT (series_instance_uid) DO UPDATE SET
    generation = CASE WHEN (SELECT n FROM is_new) = 1 AND s.state <> 'receiving'
      THEN s.generation + 1 ELSE s.generation END,
    state = CASE WHEN (SELECT n FROM is_new) = 1 THEN 'receiving' ELSE s.state END,
    skip_reasons = CASE WHEN (SELECT n FROM is_new) = 1
      THEN '[]'::jsonb ELSE s.skip_reasons END,
    eligibility = CASE WHEN (SELECT n FROM is_new) = 1 THEN NULL ELSE s.eligibility END,
    completed_at = CASE WHEN (SELECT n FROM is_new) = 1 THEN NULL ELSE s.completed_at END,
    instance_count = s.instance_count + (SELECT n FROM is_new),
    last_received_at = CASE WHEN (SELECT n FROM is_new) = 1 OR s.state = 'receiving'
      THEN greatest(s.last_received_at, excluded.last_received_at)
      ELSE s.last_received_at END,
    calling_ae_title = CASE WHEN (SELECT n FROM is_new) = 1
      THEN excluded.calling_ae_title ELSE s.calling_ae_title END`;

export async function recordInstance(db: Queryable, r: InstanceRecord): Promise<void> {
  await db.query(RECORD_INSTANCE, [
    r.sopInstanceUid,
    r.seriesInstanceUid,
    r.sopClassUid,
    r.transferSyntaxUid,
    r.path,
    r.sizeBytes,
    JSON.stringify(r.attributes),
    r.studyInstanceUid,
    r.accessionNumber ?? null,
    r.attributes.modality ?? null,
    r.callingAeTitle,
  ]);
}
