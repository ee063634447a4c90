import type { Config } from '../config/schema';
import type { Database, Queryable } from '../db/database';
import type { Logger } from '../log/logger';
import type { InstanceAttributes } from './attributes';
import { judgeSeries } from './eligibility';

/** Enqueues the analysis of an eligible series inside the caller's transaction. */
export type EnqueueAnalysis = (
  tx: Queryable,
  seriesInstanceUid: string,
  generation: number,
) => Promise<unknown>;

interface DueSeries {
  series_instance_uid: string;
  generation: number;
}

/** How many series one poll completes at most (each in its own transaction). */
const BATCH = 20;

/**
 * Completes series that received nothing for `series.idleSeconds`. It is
 * driven from the database, not from in-memory timers: after a crash, a
 * restart finds every series still `receiving` and completes it. Rows are
 * taken with FOR UPDATE SKIP LOCKED so several nodes on one PostgreSQL
 * never complete the same series twice, and an instance arriving at the
 * same moment waits for the lock and then reopens the series.
 */
export class SeriesCompleter {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = false;

  constructor(
    private readonly db: Database,
    private readonly config: Config['series'],
    private readonly enqueue: EnqueueAnalysis,
    private readonly log: Logger,
  ) {}

  /** Polls every quarter of the idle time, at least once a second. */
  start(): void {
    const periodMs = Math.max(100, Math.min(1000, (this.config.idleSeconds * 1000) / 4));
    const tick = (): void => {
      if (this.stopped) return;
      this.running = this.completeDue()
        .then(() => undefined)
        .catch((error: unknown) => {
          this.log.error('series completion failed', { error: String(error) });
        })
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(tick, periodMs);
        });
    };
    tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    await this.running;
  }

  /**
   * Completes every due series; returns how many it completed. Idle time is
   * measured on the database clock, which also stamped last_received_at.
   */
  async completeDue(): Promise<number> {
    let completed = 0;

    for (;;) {
      const done = await this.db.transaction(async (tx) => {
        const { rows } = await tx.query<DueSeries>(
          `SELECT series_instance_uid, generation FROM series
           WHERE state = 'receiving'
             AND last_received_at <= now() - make_interval(secs => $1)
           ORDER BY last_received_at
           LIMIT $2
           FOR UPDATE SKIP LOCKED`,
          [this.config.idleSeconds, BATCH],
        );
        for (const row of rows) await this.completeOne(tx, row);
        return rows.length;
      });

      completed += done;
      if (done < BATCH) return completed;
    }
  }

  private async completeOne(tx: Queryable, due: DueSeries): Promise<void> {
    const uid = due.series_instance_uid;
    const { rows } = await tx.query<{ sop_instance_uid: string; attributes: InstanceAttributes }>(
      `SELECT sop_instance_uid, attributes FROM instances WHERE series_instance_uid = $1`,
      [uid],
    );
    const result = judgeSeries(
      rows.map((r) => ({ sopInstanceUid: r.sop_instance_uid, attributes: r.attributes })),
      this.config.eligibility,
    );

    await tx.query(
      `UPDATE series SET state = $2, skip_reasons = $3::jsonb, eligibility = $4::jsonb,
         instance_count = $5, completed_at = now()
       WHERE series_instance_uid = $1`,
      [
        uid,
        result.eligible ? 'queued' : 'skipped',
        JSON.stringify(result.reasons),
        JSON.stringify(result.summary),
        rows.length,
      ],
    );
    if (result.eligible) await this.enqueue(tx, uid, due.generation);

    this.log.info(result.eligible ? 'series complete, analysis queued' : 'series skipped', {
      seriesInstanceUid: uid,
      generation: due.generation,
      instanceCount: rows.length,
      reasons: result.reasons.map((r) => r.rule),
    });
  }
}
