import type { Queryable } from '../db/database';

/**
 * The reads behind the HTTP API. Only UIDs, states, counts and times leave
 * the node this way: the tables hold no patient names, and what is selected
 * here is listed column by column so a later column cannot leak by accident.
 */

export interface SeriesFilter {
  state?: string;
  studyInstanceUid?: string;
  limit: number;
  offset: number;
}

export async function listSeries(db: Queryable, filter: SeriesFilter) {
  const { rows } = await db.query(
    `SELECT
       s.series_instance_uid AS "seriesInstanceUid",
       s.study_instance_uid AS "studyInstanceUid",
       s.modality,
       s.state,
       s.skip_reasons AS "skipReasons",
       s.instance_count AS "instanceCount",
       s.generation,
       s.calling_ae_title AS "callingAeTitle",
       s.first_received_at AS "firstReceivedAt",
       s.last_received_at AS "lastReceivedAt",
       s.completed_at AS "completedAt",
       (SELECT json_build_object('id', j.id, 'state', j.state, 'attempts', j.attempts)
          FROM jobs j
         WHERE j.kind = 'analyze' AND j.payload->>'seriesInstanceUid' = s.series_instance_uid
         ORDER BY j.id DESC LIMIT 1) AS "analyzeJob"
     FROM series s
     WHERE ($1::text IS NULL OR s.state = $1) AND ($2::text IS NULL OR s.study_instance_uid = $2)
     ORDER BY s.last_received_at DESC, s.series_instance_uid
     LIMIT $3 OFFSET $4`,
    [filter.state ?? null, filter.studyInstanceUid ?? null, filter.limit, filter.offset],
  );
  return rows;
}

export interface JobsFilter {
  state?: string;
  kind?: string;
  seriesInstanceUid?: string;
  limit: number;
  offset: number;
}

export async function listJobs(db: Queryable, filter: JobsFilter) {
  const { rows } = await db.query(
    `SELECT
       id, kind, payload, state, attempts,
       max_attempts AS "maxAttempts",
       run_after AS "runAfter",
       lease_owner AS "leaseOwner",
       lease_expires_at AS "leaseExpiresAt",
       heartbeat_at AS "heartbeatAt",
       last_error AS "lastError",
       dedupe_key AS "dedupeKey",
       created_at AS "createdAt",
       updated_at AS "updatedAt",
       started_at AS "startedAt",
       finished_at AS "finishedAt"
     FROM jobs
     WHERE ($1::text IS NULL OR state = $1)
       AND ($2::text IS NULL OR kind = $2)
       AND ($3::text IS NULL OR payload->>'seriesInstanceUid' = $3)
     ORDER BY id DESC
     LIMIT $4 OFFSET $5`,
    [
      filter.state ?? null,
      filter.kind ?? null,
      filter.seriesInstanceUid ?? null,
      filter.limit,
      filter.offset,
    ],
  );
  return rows;
}

export async function listStudies(db: Queryable, filter: { limit: number; offset: number }) {
  const { rows } = await db.query(
    `SELECT
       st.study_instance_uid AS "studyInstanceUid",
       st.accession_number AS "accessionNumber",
       st.first_received_at AS "firstReceivedAt",
       st.last_received_at AS "lastReceivedAt",
       (SELECT count(*)::int FROM series s
         WHERE s.study_instance_uid = st.study_instance_uid) AS "seriesCount"
     FROM studies st
     ORDER BY st.last_received_at DESC, st.study_instance_uid
     LIMIT $1 OFFSET $2`,
    [filter.limit, filter.offset],
  );
  return rows;
}

/** Counts by state for `ct3dflow status`: complete even when the lists are cut by a limit. */
export async function countByState(db: Queryable) {
  const studies = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM studies');
  const series = await db.query<{ state: string; n: number }>(
    'SELECT state, count(*)::int AS n FROM series GROUP BY state ORDER BY state',
  );
  const jobs = await db.query<{ kind: string; state: string; n: number }>(
    'SELECT kind, state, count(*)::int AS n FROM jobs GROUP BY kind, state ORDER BY kind, state',
  );

  return {
    studies: studies.rows[0].n,
    series: Object.fromEntries(series.rows.map((row) => [row.state, row.n])),
    jobs: jobs.rows.map((row) => ({ kind: row.kind, state: row.state, count: row.n })),
  };
}
