import { seededRandom } from '../util/seeded-random';
import { makeVolume, Vec3, Volume } from './volume';

/**
 * A crude SYNTHETIC chest for tests and benchmarks: an elliptic body of soft
 * tissue, two ellipsoidal lungs with vessels, a trachea that splits into two
 * main bronchi, noise, and padding outside the reconstruction circle. It is
 * not anatomy (the phantom generator in src/phantom is); it only has the
 * features the lung segmentation must handle.
 */
export interface SyntheticChest {
  volume: Volume<Int16Array>;
  /** 1 where the generator put lung (vessels inside included, airways not). */
  lungTruth: Uint8Array;
  /** 1 outside the circular field of view (written as PixelPaddingValue). */
  padding: Uint8Array;
}

const LUNG_HU = -850;
const TISSUE_HU = 40;
const AIR_HU = -1000;
const NOISE_HU = 20;

export function syntheticChest(dims: Vec3, spacingMm: Vec3, seed = 1): SyntheticChest {
  const [nI, nJ, nK] = dims;
  const random = seededRandom(seed);
  const data = new Int16Array(nI * nJ * nK);
  const lungTruth = new Uint8Array(data.length);
  const padding = new Uint8Array(data.length);
  // Sizes in mm, centred in the field of view; z = 0 at the first slice.
  const cx = ((nI - 1) * spacingMm[0]) / 2;
  const cy = ((nJ - 1) * spacingMm[1]) / 2;
  const height = (nK - 1) * spacingMm[2];
  const fovRadius = Math.min(cx, cy);
  const lungTop = 0.92 * height;
  const lungBottom = 0.12 * height;
  const carina = 0.75 * height;

  let p = 0;
  for (let k = 0; k < nK; k++) {
    const z = k * spacingMm[2];
    const lungZ = (z - (lungTop + lungBottom) / 2) / ((lungTop - lungBottom) / 2);
    for (let j = 0; j < nJ; j++) {
      const y = j * spacingMm[1] - cy;
      for (let i = 0; i < nI; i++, p++) {
        const x = i * spacingMm[0] - cx;
        if (x * x + y * y > fovRadius * fovRadius) {
          padding[p] = 1;
          data[p] = AIR_HU;
          continue;
        }
        const body = (x / (0.85 * fovRadius)) ** 2 + (y / (0.62 * fovRadius)) ** 2 <= 1;
        let hu = body ? TISSUE_HU : AIR_HU;

        const side = x < 0 ? -1 : 1;
        const lx = (x - side * 0.36 * fovRadius) / (0.27 * fovRadius);
        const ly = y / (0.42 * fovRadius);
        if (body && lx * lx + ly * ly + lungZ * lungZ <= 1) {
          lungTruth[p] = 1;
          // Vessels: a few vertical tubes through each lung.
          const vx = (((x + 1000) % 40) + 40) % 40;
          const vy = (((y + 1000) % 40) + 40) % 40;
          hu = Math.hypot(vx - 20, vy - 20) < 2.5 ? TISSUE_HU : LUNG_HU;
        }

        const trachea = z > carina && z < height && Math.hypot(x, y + 0.1 * fovRadius) < 9;
        const bronchusX = side * 0.3 * fovRadius * ((carina - z) / (0.15 * height));
        const bronchus =
          z <= carina &&
          z > carina - 0.15 * height &&
          Math.hypot(x - bronchusX, y + 0.1 * fovRadius) < 6;
        if (body && (trachea || bronchus)) {
          hu = AIR_HU;
          lungTruth[p] = 0;
        }

        data[p] = Math.round(hu + (random() - 0.5) * 2 * NOISE_HU);
      }
    }
  }
  return { volume: makeVolume(data, dims, spacingMm), lungTruth, padding };
}
