import { z } from 'zod';

import { JOB_STATES } from '../queue/job';

/** A bad query parameter; becomes a 400 that names the parameter and value. */
export class QueryParamError extends Error {
  override name = 'QueryParamError';
}

/** UIDs are digits and dots, at most 64 characters (PS3.5 9.1). */
const uid = z.string().regex(/^[0-9.]{1,64}$/, 'not a DICOM UID');

const limit = z.coerce.number().int().min(1).max(1000).default(100);
const offset = z.coerce.number().int().min(0).default(0);

/** Series states are open-ended (each stage adds its own); only their shape is checked. */
const seriesState = z.string().regex(/^[a-z_-]{1,32}$/, 'not a series state');

export const seriesQuery = z
  .object({ state: seriesState.optional(), studyInstanceUid: uid.optional(), limit, offset })
  .strict();

export const jobsQuery = z
  .object({
    state: z.enum(JOB_STATES as [string, ...string[]]).optional(),
    kind: z
      .string()
      .regex(/^[a-z0-9_-]{1,64}$/, 'not a job kind')
      .optional(),
    seriesInstanceUid: uid.optional(),
    limit,
    offset,
  })
  .strict();

export const studiesQuery = z.object({ limit, offset }).strict();

/** Parses a query string object, or throws QueryParamError quoting the bad value. */
export function parseQuery<T extends z.ZodType>(schema: T, query: unknown): z.infer<T> {
  const result = schema.safeParse(query ?? {});
  if (result.success) return result.data;

  const issue = result.error.issues[0];
  if (issue.code === 'unrecognized_keys') {
    throw new QueryParamError(`unknown query parameter: ${issue.keys.join(', ')}`);
  }
  const name = issue.path.map(String).join('.');
  const value = (query as Record<string, unknown>)[name];
  throw new QueryParamError(
    `invalid query parameter ${name}: ${issue.message} (value: ${JSON.stringify(value)})`,
  );
}
