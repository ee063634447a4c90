import { z } from 'zod';

import { dicomSection } from './sections/dicom';
import { imagingSection } from './sections/imaging';
import { inferenceSection } from './sections/inference';
import { nodeSection } from './sections/node';
import { queueSection } from './sections/queue';
import { seriesSection } from './sections/series';
import { trainingSection } from './sections/training';

/**
 * The one configuration schema of the node. Each section lives in its own
 * file under `sections/`; every quantity carries its unit in its name.
 */
export const configSchema = z
  .object({
    node: nodeSection,
    dicom: dicomSection,
    series: seriesSection,
    training: trainingSection,
    imaging: imagingSection,
    queue: queueSection,
    inference: inferenceSection,
  })
  .strict();

export type Config = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
