import winston from 'winston';

/**
 * Attributes that identify a patient. They are removed from every log line
 * whatever the caller passes, so a careless `log.info(msg, dataset)` cannot
 * leak them.
 */
const REDACTED_KEYS = new Set([
  'PatientName',
  'PatientID',
  'PatientBirthDate',
  'OtherPatientIDs',
  'PatientAddress',
  'patientName',
  'patientId',
  'birthDate',
]);

const redact = winston.format((info) => {
  for (const key of Object.keys(info)) {
    if (REDACTED_KEYS.has(key)) delete info[key];
  }
  return info;
});

export type Logger = winston.Logger;

/**
 * Context that a child logger stamps on each line: association, study,
 * series and job ids, so one grep follows one piece of work.
 */
export interface LogContext {
  component?: string;
  associationId?: string;
  studyInstanceUid?: string;
  seriesInstanceUid?: string;
  jobId?: string | number;
  [key: string]: unknown;
}

let root: winston.Logger | undefined;

/** JSON lines on stderr (stdout is kept for command output). */
export function createRootLogger(level = 'info'): winston.Logger {
  return winston.createLogger({
    level,
    format: winston.format.combine(redact(), winston.format.timestamp(), winston.format.json()),
    transports: [
      new winston.transports.Console({ stderrLevels: Object.keys(winston.config.npm.levels) }),
    ],
  });
}

export function setRootLogger(logger: winston.Logger): void {
  root = logger;
}

export function getLogger(context: LogContext = {}): winston.Logger {
  root ??= createRootLogger(process.env.CT3DFLOW_LOG_LEVEL ?? 'info');
  return root.child(context);
}
