// PNG images of charts, for the front ends that show no vega-lite and no SVG: an untrusted classic Notebook,
// nbconvert's HTML export (which strips SVG), GitHub and other viewers. resvg rasterises the SVG that vega drew.

/** Pixels per CSS pixel: sharp on high-density screens, about 70 KB for a chart of the usual size. */
export const PNG_SCALE = 2;

/** The font for the charts' text: vega writes font-family sans-serif; Debian's fonts-dejavu-core has this one. */
const FONT_FAMILY = "DejaVu Sans";

export interface Png {
  /** The PNG file's bytes. */
  bytes: Uint8Array;
  /** Size to show it at, in CSS pixels (the SVG's own size): the image itself is PNG_SCALE times larger. */
  width: number;
  height: number;
}

/** Rasterise an SVG document (as renderSvg writes it) to PNG, on white, at PNG_SCALE. */
export async function svgToPng(svg: string): Promise<Png> {
  // Loaded on first use: the native module costs start-up time that commands without charts should not pay.
  const { Resvg } = await import("@resvg/resvg-js");
  const resvg = new Resvg(svg, {
    fitTo: { mode: "zoom", value: PNG_SCALE },
    background: "white",
    font: { loadSystemFonts: true, defaultFontFamily: FONT_FAMILY, sansSerifFamily: FONT_FAMILY },
  });
  const bytes = resvg.render().asPng();
  return { bytes, width: Math.round(resvg.width), height: Math.round(resvg.height) };
}
