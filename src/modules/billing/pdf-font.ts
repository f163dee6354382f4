import { existsSync } from 'node:fs';
import type { PdfFont } from './bill-export.ts';

/** Fonts with Chinese glyphs that Debian and most Linux distributions install (fonts-wqy-microhei, fonts-noto-cjk …). */
const CANDIDATES: readonly PdfFont[] = [
  { path: '/usr/share/fonts/truetype/wqy/wqy-microhei.ttc', family: 'WenQuanYiMicroHei' },
  { path: '/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc', family: 'WenQuanYiZenHei' },
  { path: '/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc', family: 'NotoSansCJKsc-Regular' },
  { path: '/usr/share/fonts/truetype/arphic/uming.ttc', family: 'AR PL UMing CN' },
];

/**
 * The font of PDF bills: `configured` (`path` or `path#PostScriptName` for a font collection) when given, else the
 * first installed candidate; undefined when none is found (PDF bills are then refused with a clear error).
 */
export function findPdfFont(configured: string | undefined): PdfFont | undefined {
  if (configured) {
    const [path, family] = configured.split('#') as [string, string | undefined];
    return { path, family };
  }
  return CANDIDATES.find((c) => existsSync(c.path));
}
