import { z } from 'zod';

/** Where the node keeps its files and its database, and how it reports. */
export const nodeSection = z
  .object({
    /** Root of the local data folder (instances, database, models). */
    dataDir: z.string().min(1).default('./data'),
    /**
     * PostgreSQL connection string. Absent: an embedded PGlite database in
     * `<dataDir>/db`, which one process at a time may open.
     */
    databaseUrl: z.string().url().optional(),
    httpPort: z.number().int().min(0).max(65535).default(8080),
    httpHost: z.string().default('0.0.0.0'),
    logLevel: z.enum(['error', 'warn', 'info', 'debug']).default('info'),
  })
  .strict()
  .prefault({});
