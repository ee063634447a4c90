import type { Migration } from './index';

/**
 * /api/series shows each series' latest analyze job and /api/jobs filters
 * by series: both look jobs up by the payload's seriesInstanceUid.
 */
export const migration003JobsBySeries: Migration = {
  id: '003-jobs-by-series',
  sql: `
    CREATE INDEX jobs_series_instance_uid ON jobs ((payload->>'seriesInstanceUid'), id);
  `,
};
