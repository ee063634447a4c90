import { z } from 'zod';

/**
 * The job queue in the database (src/queue). A worker holds a lease on each
 * job it runs and renews it with a heartbeat; a lease that is not renewed
 * (the node died) expires and another worker takes the job.
 */
export const queueSection = z
  .object({
    /**
     * Names this node in lease owners (`<nodeId>:<pid>`) and its folder of
     * partial files (`incoming/<nodeId>`), so it must be a safe path part.
     * Absent: the host name. Give each node on a shared PostgreSQL a
     * distinct one.
     */
    nodeId: z
      .string()
      .min(1)
      .max(200)
      .regex(/^(?!\.+$)[A-Za-z0-9._-]+$/, 'nodeId: letters, digits, dot, dash, underscore')
      .optional(),
    /** How long a claim holds without a heartbeat. */
    leaseSeconds: z.number().positive().default(60),
    /** How often a running job renews its lease; must be well under leaseSeconds. */
    heartbeatSeconds: z.number().positive().default(15),
    /** Back-off after the first failed attempt; doubles with each attempt. */
    backoffBaseSeconds: z.number().min(0).default(10),
    /** Upper bound of the back-off. */
    backoffMaxSeconds: z.number().min(0).default(600),
    /** Attempts before a job is marked dead, unless the job sets its own. */
    maxAttempts: z.number().int().min(1).default(5),
    /** How often an idle worker looks for claimable jobs. */
    pollIntervalMs: z.number().int().min(10).default(1000),
    /** On SIGTERM: how long running handlers may take before they are aborted. */
    stopGraceSeconds: z.number().min(0).default(30),
  })
  .strict()
  .refine((queue) => queue.heartbeatSeconds < queue.leaseSeconds, {
    message: 'heartbeatSeconds must be less than leaseSeconds',
    path: ['heartbeatSeconds'],
  })
  .prefault({});
