import { join } from 'node:path';

import type { Config } from '../config/schema';
import { loadBundle, type BundleManifest } from '../model/bundle';
import { getLogger, type Logger } from '../log/logger';
import { FlowInferenceEngine } from './engine';

/** The bundle folder the node scores with: inference.bundleDir, else <dataDir>/models/current. */
export function bundleDirOf(config: Config): string {
  return config.inference.bundleDir ?? join(config.node.dataDir, 'models', 'current');
}

/**
 * Loads the configured bundle (manifest and sha256 checked) and opens an
 * engine with the inference section's settings. The manifest goes with it:
 * reports need its model version, Device UID and calibration.
 */
export async function openBundleEngine(
  config: Config,
  log: Logger = getLogger({ component: 'inference' }),
): Promise<{ engine: FlowInferenceEngine; manifest: BundleManifest; bundleDir: string }> {
  const bundleDir = bundleDirOf(config);
  const { manifest, model } = await loadBundle(bundleDir);
  const settings = config.inference;
  const engine = await FlowInferenceEngine.open(
    model,
    manifest.architecture.config,
    {
      executionProvider: settings.executionProvider,
      cudaDeviceId: settings.cudaDeviceId,
      intraOpThreads: settings.intraOpThreads,
      allowSpinning: settings.allowSpinning,
      batchSize: settings.batchSize,
      warmUpBatches: settings.warmUpBatches,
    },
    log.child({ modelVersion: manifest.modelVersion, deviceUid: manifest.deviceUid }),
  );
  return { engine, manifest, bundleDir };
}
