import type { Migration } from './index';

/**
 * What the DICOM side received. A series moves
 *   receiving -> queued (eligible, an `analyze` job enqueued)
 *   receiving -> skipped (ineligible, `skip_reasons` lists each failed rule)
 * and back to receiving with `generation` + 1 when a new instance arrives
 * after completion. `eligibility` keeps what the rules measured and the
 * instances chosen for analysis (sorted along the slice normal).
 * `instances.attributes` holds geometry and header values only, never
 * patient names, IDs or birth dates.
 */
export const migration002Ingest: Migration = {
  id: '002-ingest',
  sql: `
    CREATE TABLE studies (
      study_instance_uid text PRIMARY KEY,
      accession_number text,
      first_received_at timestamptz NOT NULL DEFAULT now(),
      last_received_at timestamptz NOT NULL DEFAULT now()
    );

    CREATE TABLE series (
      series_instance_uid text PRIMARY KEY,
      study_instance_uid text NOT NULL REFERENCES studies,
      modality text,
      state text NOT NULL DEFAULT 'receiving',
      skip_reasons jsonb NOT NULL DEFAULT '[]'::jsonb,
      instance_count integer NOT NULL DEFAULT 0,
      generation integer NOT NULL DEFAULT 0,
      first_received_at timestamptz NOT NULL DEFAULT now(),
      last_received_at timestamptz NOT NULL DEFAULT now(),
      completed_at timestamptz,
      calling_ae_title text,
      eligibility jsonb
    );

    CREATE INDEX series_receiving ON series (last_received_at)
      WHERE state = 'receiving';

    CREATE TABLE instances (
      sop_instance_uid text PRIMARY KEY,
      series_instance_uid text NOT NULL REFERENCES series,
      sop_class_uid text NOT NULL,
      transfer_syntax_uid text NOT NULL,
      path text NOT NULL,
      size_bytes bigint NOT NULL,
      received_at timestamptz NOT NULL DEFAULT now(),
      attributes jsonb NOT NULL DEFAULT '{}'::jsonb
    );

    CREATE INDEX instances_series ON instances (series_instance_uid);
  `,
};
