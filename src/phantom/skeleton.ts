import type { Anatomy } from './anatomy';
import { pixelRange, SliceBuffers } from './slice';
import { TISSUE_HU } from './tissue';

// See random.ts: a module binding of Math keeps the inner loops fast under Jest.
const Math = globalThis.Math;

/** Vertebral body with cortex and discs, canal, posterior arch. */
export function renderSpine(anatomy: Anatomy, slice: SliceBuffers): void {
  const { grid, zMm: z, hu, lung } = slice;
  const rv = anatomy.vertebraRadiusMm;
  const yv = anatomy.spineYMm;
  const period = 24 + 6 * anatomy.habitus;
  const phase = (((z + 500) % period) + period) % period;
  const isDisc = phase < 0.2 * period;
  const yCanal = yv + rv + 8;
  const px = grid.pixelSpacingMm;

  const [i0, i1] = pixelRange(-rv - 30, rv + 30, grid.x0Mm, px, grid.nx);
  const [j0, j1] = pixelRange(yv - rv - 2, yCanal + 40, grid.y0Mm, px, grid.ny);
  for (let j = j0; j <= j1; j++) {
    const y = grid.y0Mm + j * px;
    for (let i = i0; i <= i1; i++) {
      const x = grid.x0Mm + i * px;
      const p = i + grid.nx * j;
      const dBody = Math.sqrt(x * x + 1.21 * (y - yv) * (y - yv));
      const dCanal = Math.sqrt(x * x + (y - yCanal) * (y - yCanal));
      if (dBody < rv) {
        hu[p] = isDisc ? TISSUE_HU.disc : dBody > rv - 1.6 ? TISSUE_HU.cortex : TISSUE_HU.marrow;
        lung[p] = 0;
      } else if (dCanal < 7.5) {
        hu[p] = TISSUE_HU.csf;
      } else if (!isDisc && dCanal < 12 && y > yCanal - 3) {
        hu[p] = TISSUE_HU.cortex - 150;
      } else if (!isDisc && Math.abs(x) < 3.5 && y > yCanal && y < yCanal + 32) {
        hu[p] = TISSUE_HU.cortex - 200;
      } else if (!isDisc && Math.abs(y - yCanal + 2) < 5 && Math.abs(x) < rv + 14) {
        // Transverse processes.
        hu[p] = TISSUE_HU.marrow + 120;
      }
    }
  }
}

/** The sternum: manubrium (wider) and body, cortex and marrow, anterior midline. */
export function renderSternum(anatomy: Anatomy, slice: SliceBuffers): void {
  const { grid, zMm: z, hu } = slice;
  const H = anatomy.lungHeightMm;
  if (z < 0.36 * H || z > 0.9 * H) return;
  const halfWidth = z > 0.78 * H ? 24 : 14;
  const yS = anatomy.cavityCentreYMm - anatomy.cavityHalfDepthMm - 7;
  const px = grid.pixelSpacingMm;
  for (let j = 0; j < grid.ny; j++) {
    const y = grid.y0Mm + j * px;
    if (Math.abs(y - yS) > 7) continue;
    for (let i = 0; i < grid.nx; i++) {
      const x = grid.x0Mm + i * px;
      const e = (x / halfWidth) ** 2 + ((y - yS) / 6) ** 2;
      if (e < 1) hu[i + grid.nx * j] = e > 0.6 ? TISSUE_HU.cortex - 200 : TISSUE_HU.marrow;
    }
  }
}
