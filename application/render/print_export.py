"""The print files, made band by band at print size: the composite upscaled onto the print canvas, and
every pane's files (the layer, its white-ink mask, its mirrored or marked print file) resampled to the
same canvas, so they line up with the composite. Nothing the size of the print is held whole: a
24 x 36 in print at 600 DPI is 311 megapixels, and each band is band_rows rows of it.

The panes are shaped at the photo's resolution (edges refined against the photo, small features merged,
hidden parts filled) and come here as PaneSource. At print size a layer takes the upscaled composite's
pixels where it shows the photo, and its fill (Lanczos-resampled) where the fill invented colours;
its alpha is Lanczos-resampled too. With fit "pad" the borders are white paper: opaque on the back
layer, transparent on the others, so the layers still stack to the composite.

In painterly mode each band of the composite is finished at print resolution (PrintFinish); where the
painter kept its strokes, they are drawn again for the band at print size, and what the enlargement
blurred away of them goes to the finish with the band, with the paint's texture made at print size for
the enlarged one.
"""

from __future__ import annotations

from functools import cached_property
from typing import Callable

import attrs
import numpy as np

from rilievo.domain.fill import Boxed, FilledColours
from rilievo.domain.images import REC709_LUMA, per_pixel, pixel_items
from rilievo.domain.layers import smoothed
from rilievo.domain.outputs import DEPTH_MAP, FORMAT_FILES, PREVIEW, PROOF, RESULT_STEM
from rilievo.domain.params import RenderParams
from rilievo.domain.print_extras import mark_patches, marks_margin_px, white_ink_mask
from rilievo.domain.print_layout import MM_PER_INCH, PrintPlan
from rilievo.domain.upsampling import joint_bilateral_rows

from rilievo.domain.styles import PostSettings

from ..ports import PaintedStrokes, PostProcessor, PrintFileSpec, PrintTexture, Resampler, StripWriter, Upscaler
from .files import RunFiles

BAND_ROWS = 128  # at most; a power of two, so bands fill the TIFF tiles' rows (256) whole
# a band's pixels at most: 128 rows of a 24 x 36 in print at 300 DPI, 64 at 600. Each streamed file's
# encoder holds some 900 rows while the bands are made; fewer rows a band for a wide print keep the job
# within its memory bound (40-75 MiB less at 600 DPI)
BAND_PIXELS = 128 * 10_800
PAPER = 1.0  # white
# how much of the paint's texture the finished painting holds: its detail within KEPT_DETAIL px (a feather
# radius: a Gaussian of a third of it), compared over KEPT_AROUND px; KEPT_FLOOR is a texture's detail
# energy too small to judge by (its std 0.001)
KEPT_DETAIL = 3
KEPT_AROUND = 12
KEPT_FLOOR = 1e-6
KEPT_STRIP_ROWS = 256
# the photo-size strokes are held in strips of this many rows, each let go once the bands are past it: a
# strip is 6 MiB from a 12 MP photo, a memory mapping of its own (entrypoints.memory), given back when freed
PASSED_STRIP_ROWS = 256


@attrs.frozen
class PaneSource:
    """A pane at the photo's (cropped) resolution, with the names of the files it needs."""

    name: str
    alpha: np.ndarray | Boxed  # HxW float, the hidden part filled in included
    fill: np.ndarray | None  # Nx3 float: the colours of the N filled pixels, in the order of image[filled]
    filled: np.ndarray | Boxed  # HxW bool: the pixels whose colour the fill invented (elsewhere the composite's)
    is_back: bool
    white_ink_file: str | None
    print_file: str | None  # mirrored and/or with marks; None when neither is asked


@attrs.frozen
class PrintFinish:
    """A painting's finish at print resolution: the post-processor, the style's settings, the seed,
    and the painter's strokes where it kept them (drawn again at print size)."""

    post: PostProcessor
    settings: PostSettings
    seed: int
    strokes: PaintedStrokes | None = None


class PrintExport:
    def __init__(self, params: RenderParams, plan: PrintPlan, image: np.ndarray, depth8: np.ndarray, *,
                 upscaler: Upscaler, resampler: Resampler, files: RunFiles, finish: PrintFinish | None = None):
        """image: the whole photo; depth8: the crop's, 8-bit, 0 = near; finish: in painterly mode, the
        painting's finish at print resolution, applied to the composite's bands (the layers take their
        colours from those bands, so they still stack to the composite)."""
        self.plan, self.params, self.files = plan, params, files
        self.upscaler, self.resampler, self.finish = upscaler, resampler, finish
        self._carried: tuple[int, np.ndarray | None] = (0, None)  # the finish's context rows made last band
        self._painted_strokes: tuple[PaintedStrokes, _RowsAhead, _TextureRows] | None = None
        self._bands: dict[str, np.ndarray] = {}  # band_around's buffers, by name
        self.image = image
        self.source = image[plan.crop.slices]
        self.depth8 = depth8
        self.width, self.height = plan.canvas_px

    @property
    def pixel_mm(self) -> float:
        return MM_PER_INCH / self.plan.dpi

    def write(self, panes: list[PaneSource], bits: int, on_progress: Callable[[float], None]) -> None:
        """Every print file, in one pass over the bands. All or nothing: a failure aborts every file."""
        files = self.open_files(panes, bits)
        # the rows of each filled pane's colours, made once (FilledColours counts a pane's filled pixels)
        self.fills = [FilledColours(self.source, pane.filled, pane.fill) if pane.fill is not None else None
                      for pane in panes]
        try:
            for top in range(0, self.height, self.band_rows):
                bottom = min(top + self.band_rows, self.height)
                self.write_band(top, bottom, panes, files)
                on_progress(bottom / self.height)
            for writer, _ in files.values():
                writer.close()
        except BaseException:
            for writer, _ in files.values():
                writer.abort()
            raise
        finally:
            self._bands.clear()
            self.upscaler.release()
            self.resampler.release()

    # -- the files -------------------------------------------------------------------------------
    def open_files(self, panes: list[PaneSource], bits: int) -> dict[str, tuple[StripWriter, object]]:
        """name -> (writer, what feeds it): "composite", "depth", or (pane index, "layer" | "white" | "print")."""
        params, files = self.params, {}

        def open_file(name: str, feed: object, channels: int, kind: str, *, margin: int = 0) -> None:
            # a painterly finish holds the photo-size strokes and the finish's buffers through the bands: its
            # files are spooled, not streamed beside them (a watercolour print from 12 MP peaked at 1,131 MiB)
            spec = PrintFileSpec(self.width + 2 * margin, self.height + 2 * margin, channels, kind, params.dpi,
                                 cmyk_profile=params.cmyk_profile, intent=params.intent, ink_limit=params.ink_limit,
                                 stream=self.finish is None)
            files[name] = (self.files.print_file(name, spec), feed)

        try:
            open_file(f"{RESULT_STEM}.png", "composite", 3, "png16")
            if format_file := FORMAT_FILES[params.format]:
                open_file(format_file, "composite", 3, params.format)
            if params.format == "cmyk-tiff":
                open_file(PROOF, "composite", 3, "proof-jpeg")
            open_file(PREVIEW, "composite", 3, "preview-jpeg")
            open_file(DEPTH_MAP, "depth", 1, "png8")
            layer_kind = "png16" if bits == 16 else "png8"
            for index, pane in enumerate(panes):
                open_file(f"{pane.name}.png", (index, "layer"), 4, layer_kind)
                margin = self.marks_margin
                if pane.white_ink_file:
                    open_file(pane.white_ink_file, (index, "white"), 1, "png8", margin=margin)
                if pane.print_file:
                    open_file(pane.print_file, (index, "print"), 4, layer_kind, margin=margin)
        except BaseException:
            for writer, _ in files.values():
                writer.abort()
            raise
        return files

    @cached_property
    def band_rows(self) -> int:
        rows = BAND_ROWS
        while rows > 16 and rows * self.width > BAND_PIXELS:
            rows //= 2
        return rows

    @property
    def marks_margin(self) -> int:
        return marks_margin_px(self.pixel_mm) if self.params.marks else 0

    # -- one band --------------------------------------------------------------------------------
    def write_band(self, top: int, bottom: int, panes: list[PaneSource], files: dict) -> None:
        """The band's rows in every file; one pane's rows at a time, so memory holds one pane's band."""
        margin = self.marks_margin
        if margin and top == 0:
            self.write_marks_rows(0, margin, files)
        composite = self.composite_band(top, bottom)
        if bottom == self.height:
            # the files' encoders start with their last rows, from here on: the photo-size strokes (137 MiB
            # at 12 MP), which the last composite rows were the last to need, do not wait with them
            self._painted_strokes = None
        depth = self.depth_band(top, bottom, composite)
        for writer, feed in files.values():
            if feed == "composite":
                writer.write_rows(composite)
            elif feed == "depth":
                writer.write_rows(depth[..., None])
        for index, pane in enumerate(panes):
            rgba, white = self.layer_band(pane, self.fills[index], top, bottom, composite)
            for writer, feed in files.values():
                if isinstance(feed, str) or feed[0] != index:
                    continue
                if feed[1] == "layer":
                    writer.write_rows(rgba)
                elif feed[1] == "white":
                    assert white is not None  # a pane's white-ink file is opened only when it has white ink
                    writer.write_rows(self.marked(self.to_print(white)[..., None], top + margin, channels=1))
                else:
                    writer.write_rows(self.marked(self.to_print(rgba), top + margin, channels=4))
            del rgba, white
        if margin and bottom == self.height:
            self.write_marks_rows(self.height + margin, self.height + 2 * margin, files)

    def composite_band(self, top: int, bottom: int) -> np.ndarray:
        inside = self.inside_rows(top, bottom)
        if inside is None:
            return np.full((bottom - top, self.width, 3), PAPER, np.float32)
        rows, window = inside
        band = self.band_around(rows, bottom - top, 3, PAPER, reused="composite")
        band[rows, self.placement_columns] = self.finished(window, self.finish) if self.finish else self.resized(
            self.upscaler, self.source, window)
        return band

    def finished(self, window: tuple, finish: PrintFinish) -> np.ndarray:
        """The window of the enlarged painting, finished at print resolution: made with the rows of
        context the finish needs, which it then leaves out."""
        placement, crop = self.plan.placement, self.plan.crop
        source_size, out_size = (crop.width, crop.height), (placement.width, placement.height)
        context = finish.post.print_context_rows(source_size, out_size)
        left, top, right, bottom = window
        first, last = max(0, top - context), min(placement.height, bottom + context)
        # the bands come in order: the rows the last one made past its end are this one's first rows
        carried_top, carried = self._carried
        if carried is not None and carried_top <= first < carried_top + len(carried) <= last:
            made = carried[first - carried_top :]
            rows = made if first + len(made) == last else np.concatenate(  # a last band within the context: all made
                [made, self.resized(self.upscaler, self.source, (left, first + len(made), right, last))])
        else:
            rows = self.resized(self.upscaler, self.source, (left, first, right, last))
        keep_from = max(first, bottom - context)
        self._carried = (keep_from, rows[keep_from - first :].copy())
        strokes = texture = None
        if (finish.strokes is not None and placement.width > crop.width
                and finish.post.sharpens_print(source_size, out_size, finish.settings)):
            # what the enlargement blurs away: the strokes drawn at print size, less the painting's own
            # enlarged; and the paint's texture made at print size, for the enlarged one
            painted, flat, photo_texture = self.painted_strokes(finish.strokes)
            strokes, redrawn = painted.print_rows((crop.x, crop.y, crop.width, crop.height), out_size, first, last,
                                                  self.pixel_mm)
            strokes -= self.resized(self.resampler, flat, (left, first, right, last))
            enlarged = self.resized(self.resampler, photo_texture, (left, first, right, last))
            enlarged *= np.float32(2.0)  # back to the texture's -1..1, in place
            enlarged -= np.float32(1.0)
            texture = PrintTexture(redrawn, enlarged)
        return finish.post.finish_print_rows(rows, first, slice(top - first, bottom - first), source_size,
                                             out_size, finish.settings, finish.seed, self.plan.dpi, strokes, texture)

    def painted_strokes(self, strokes: PaintedStrokes) -> tuple[PaintedStrokes, _RowsAhead, _TextureRows]:
        """The strokes in the finished painting's colours, the print's crop of them drawn flat at the
        photo's size, and its crop of the paint's texture at the photo's size as the finished painting
        holds it (the finish softens the painting far away, and some of its texture with it: taking the
        whole texture out there would leave its negative); made once, the photo-size rows let go as the
        bands pass them."""
        if self._painted_strokes is None:
            painted, crop = strokes.coloured_as(self.image), self.plan.crop.slices
            texture, flat = strokes.photo_texture()[crop], painted.photo_flat()[crop]  # in half precision
            texture *= _texture_kept_in_strips(self.image[crop], flat, texture)
            flat_rows = _RowsAhead(flat)
            del flat  # its strips stand for it: the whole and the strips of both were 274 MiB at 12 MP
            self._painted_strokes = painted, flat_rows, _TextureRows(_RowsAhead(texture))
        return self._painted_strokes

    def band_around(self, rows: slice, height: int, channels: int, outside: float, *, reused: str) -> np.ndarray:
        """A band whose pixels outside the placement are `outside`; the placement's are left to fill
        (each is written once: these bands are tens of MB). Made in the buffer named `reused`, the same
        memory band after band: a fresh band was a mapping of its own (entrypoints.memory), paid for in
        page faults each time. It holds until the next band of that name is made."""
        buffer = self._bands.get(reused)
        if buffer is None or buffer.shape[2] != channels:
            buffer = self._bands[reused] = np.empty((self.band_rows, self.width, channels), np.float32)
        band = buffer[:height]
        columns = self.placement_columns
        band[: rows.start] = band[rows.stop :] = outside
        band[rows, : columns.start] = band[rows, columns.stop :] = outside
        return band

    def depth_band(self, top: int, bottom: int, composite: np.ndarray) -> np.ndarray:
        """The depth map's rows, enlarged edge-aware with the print as its guide (joint bilateral
        upsampling): far (1) on the paper around a padded photo."""
        band = np.ones((bottom - top, self.width), np.float32)
        inside = self.inside_rows(top, bottom)
        if inside is not None:
            rows, window = inside
            placement, crop = self.plan.placement, self.plan.crop
            if self.at_photo_size:
                band[rows, self.placement_columns] = self.depth8[window[1] : window[3]] / np.float32(255.0)
            else:
                band[rows, self.placement_columns] = joint_bilateral_rows(
                    _UnitRows(self.depth8), self.source, composite[rows, self.placement_columns],
                    np.arange(window[1], window[3]), (placement.width, placement.height))
        return band

    def layer_band(self, pane: PaneSource, fill: FilledColours | None, top: int, bottom: int, composite: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray | None]:
        """The layer's RGBA rows and, when it has a white-ink file, its white-ink rows; fill: the pane's
        colours (None: nothing filled)."""
        outside = PAPER if pane.is_back else 0.0  # white paper where "pad" leaves the photo out
        choke = self.params.white_ink_choke if pane.white_ink_file else 0
        inside = self.inside_rows(top, bottom, extra=choke)
        if inside is None:
            band = np.full((bottom - top, self.width, 4), outside, np.float32)
            return band, band[..., 3].copy() if pane.white_ink_file else None
        rows, window = inside
        if self.clear_over(pane, window):  # no colour, no alpha, no white ink
            band = np.zeros((bottom - top, self.width, 4), np.float32)
            return band, np.zeros((bottom - top, self.width), np.float32) if pane.white_ink_file else None
        # the window reaches `choke` rows past the band where it can, for the erosion of the white ink
        core = slice(rows.start + top - self.plan.placement.y - window[1], None)
        count = rows.stop - rows.start
        extended, extended_filled = self.alpha_and_filled(pane, window)
        alpha, filled = extended[core][:count], extended_filled[core][:count]
        band = self.band_around(rows, bottom - top, 4, outside, reused="layer")
        layer, rgb = band[rows, self.placement_columns], composite[rows, self.placement_columns]
        visible = alpha > 0  # no colour where the layer is clear
        per_pixel(np.multiply, rgb, visible, out=layer[..., :3])
        filled_columns = np.flatnonzero(filled.any(axis=0))
        if fill is not None and filled_columns.size and self.at_photo_size:
            # the fill's colours are the filled pixels' own: taken there alone, by the same steps as below
            # (where nothing is filled those give the composite's colours, which the layer has already);
            # (fill - under) + under, not the fill itself: the same float rounding as the blend below
            first = window[1] + core.start
            under = pixel_items(rgb)[filled].view(np.float32).reshape(-1, 3)
            colours = fill.colours_of_rows(first, first + count)
            colours -= under
            colours += under
            per_pixel(np.multiply, colours, visible[filled], out=colours)
            pixel_items(layer[..., :3])[filled] = pixel_items(colours)
        elif fill is not None and filled_columns.size:  # the fill's colours only where the band has some
            span = slice(int(filled_columns[0]), int(filled_columns[-1]) + 1)
            colours = self.resized(self.resampler, fill,
                                   (span.start, window[1], span.stop, window[3]))[core][:count]
            colours -= rgb[:, span]  # the resized fill is a new array
            per_pixel(np.multiply, colours, filled[:, span], out=colours)
            colours += rgb[:, span]
            per_pixel(np.multiply, colours, visible[:, span], out=layer[:, span, :3])
        layer[..., 3] = alpha
        if not pane.white_ink_file:
            return band, None
        white = band[..., 3].copy()
        if choke:
            context = np.full((extended.shape[0], self.width), outside, np.float32)
            context[:, self.placement_columns] = extended
            white[rows] = white_ink_mask(context, choke)[core][:count]
        return band, white

    def alpha_and_filled(self, pane: PaneSource, window: tuple) -> tuple[np.ndarray, np.ndarray]:
        """The pane's alpha (float32) and fill mask over the window of the placement: resized together,
        as two channels; at the photo's own size, as they are (the mask as true/false)."""
        if self.at_photo_size:
            left, top, right, bottom = window
            return np.asarray(pane.alpha[top:bottom, left:right], np.float32), pane.filled[top:bottom, left:right]
        both = self.resized(self.resampler, _AlphaAndFill(pane), window)
        return both[..., 0], both[..., 1]

    def clear_over(self, pane: PaneSource, window: tuple) -> bool:
        """Whether the pane is clear over the whole window of the placement: a pane in front whose
        alpha (and so its fill mask) is kept in a box (Boxed) that the source rows the window is
        resized from do not meet. There the resize is exact zeros (0 in, 0 out), and so is the band."""
        if pane.is_back or not isinstance(pane.alpha, Boxed):
            return False
        placement, crop = self.plan.placement, self.plan.crop
        first, last = window[1], window[3]
        if not self.at_photo_size:
            first, last = self.resampler.needed_source_rows((crop.width, crop.height),
                                                            (placement.width, placement.height), window)
        return last <= pane.alpha.rows.start or first >= pane.alpha.rows.stop

    # -- geometry --------------------------------------------------------------------------------
    @property
    def at_photo_size(self) -> bool:
        """Whether the print is the crop at its own size: nothing to resize."""
        placement, crop = self.plan.placement, self.plan.crop
        return (placement.width, placement.height) == (crop.width, crop.height)

    @property
    def placement_columns(self) -> slice:
        placement = self.plan.placement
        return slice(placement.x, placement.x + placement.width)

    def inside_rows(self, top: int, bottom: int, extra: int = 0) -> tuple[slice, tuple] | None:
        """The band's rows that the photo covers (relative to the band), and the window of the
        placement to make for them, widened by `extra` rows each way where the placement allows."""
        placement = self.plan.placement
        first, last = max(top, placement.y), min(bottom, placement.y + placement.height)
        if first >= last:
            return None
        window_top = max(0, first - placement.y - extra)
        window_bottom = min(placement.height, last - placement.y + extra)
        return slice(first - top, last - top), (0, window_top, placement.width, window_bottom)

    def resized(self, upscaler: Upscaler | Resampler,
                source: np.ndarray | _AlphaAndFill | _TextureRows | _RowsAhead | FilledColours, window: tuple
                ) -> np.ndarray:
        """window of the source (the crop, or a same-sized array) resized to the placement."""
        placement, crop = self.plan.placement, self.plan.crop
        out_size = (placement.width, placement.height)
        if self.at_photo_size:
            left, top, right, bottom = window
            return np.asarray(source[top:bottom, left:right], np.float32)
        first, last = upscaler.needed_source_rows((crop.width, crop.height), out_size, window)
        band = np.asarray(source[first:last], np.float32)
        return upscaler.upscale_region(band, out_size, window, source_top=first, source_height=crop.height)

    # -- print-file transforms -------------------------------------------------------------------
    def to_print(self, pixels: np.ndarray) -> np.ndarray:
        return pixels[:, ::-1] if self.params.mirror else pixels

    def marked(self, rows: np.ndarray, canvas_top: int, channels: int) -> np.ndarray:
        """Rows of the print file: the image rows on the marks margin, with the marks drawn."""
        margin = self.marks_margin
        if not margin:
            return np.ascontiguousarray(rows)
        out = np.zeros((rows.shape[0], self.width + 2 * margin, channels), np.float32)
        out[:, margin : margin + self.width] = rows
        self.draw_marks(out, canvas_top)
        return out

    def write_marks_rows(self, first: int, last: int, files: dict) -> None:
        """The margin rows above or below the image in every marked file."""
        for writer, feed in files.values():
            if not isinstance(feed, str) and feed[1] in ("white", "print"):
                channels = 1 if feed[1] == "white" else 4
                rows = np.zeros((last - first, self.width + 2 * self.marks_margin, channels), np.float32)
                self.draw_marks(rows, first)
                writer.write_rows(rows)

    def draw_marks(self, rows: np.ndarray, canvas_top: int) -> None:
        """Marks in full ink: opaque black on colour files, full coverage on white-ink masks."""
        mark = np.array([0.0, 0.0, 0.0, 1.0] if rows.shape[2] == 4 else [1.0], np.float32)
        for top, left, mask in self.patches:
            first, last = max(top, canvas_top), min(top + mask.shape[0], canvas_top + rows.shape[0])
            if first < last:
                region = rows[first - canvas_top : last - canvas_top, left : left + mask.shape[1]]
                region[mask[first - top : last - top]] = mark

    @cached_property
    def patches(self) -> list:
        return mark_patches(self.height, self.width, self.marks_margin, self.pixel_mm)


def texture_kept(finished: np.ndarray, flat: np.ndarray, texture: np.ndarray) -> np.ndarray:
    """How much of the paint's texture (HxWx3) the finished painting holds beyond its flat strokes, HxWx1,
    0 to 1: the local regression of the one's luminance detail a pixel or two across on the other's, over
    KEPT_AROUND px (where there is no texture to judge by, all of it)."""
    held = finished @ REC709_LUMA
    held -= flat @ REC709_LUMA
    made = texture @ REC709_LUMA
    held -= smoothed(held, KEPT_DETAIL)
    made -= smoothed(made, KEPT_DETAIL)
    held *= made
    made *= made
    kept = smoothed(held, KEPT_AROUND)
    del held
    kept += KEPT_FLOOR
    alone = smoothed(made, KEPT_AROUND)
    alone += KEPT_FLOOR
    kept /= alone
    return np.clip(kept, 0.0, 1.0, out=kept)[..., None]


def _texture_kept_in_strips(finished: np.ndarray, flat: np.ndarray, texture: np.ndarray) -> np.ndarray:
    """texture_kept, in half precision, made a strip of rows at a time with the rows each strip reads,
    so that it is the same as made whole and none of its temporaries is the photo's size (each would be
    48 MB from a 12 MP photo)."""
    height = len(texture)
    context = KEPT_DETAIL + KEPT_AROUND
    kept = np.empty((*texture.shape[:2], 1), np.float16)
    for top in range(0, height, KEPT_STRIP_ROWS):
        bottom = min(height, top + KEPT_STRIP_ROWS)
        first, last = max(0, top - context), min(height, bottom + context)
        rows = texture_kept(finished[first:last], flat[first:last].astype(np.float32),
                            texture[first:last].astype(np.float32))
        kept[top:bottom] = rows[top - first : bottom - first]
    return kept


class _RowsAhead:
    """The rows of an array that the bands have yet to read, in strips of PASSED_STRIP_ROWS: the bands
    read it top to bottom, each from a row at or below the last one's first, so that a read lets go of
    the strips wholly above its first row (the strokes' flat colours and texture from a 12 MP photo
    are 137 MiB together: held whole, they were the print's peak)."""

    def __init__(self, array: np.ndarray):
        self.shape = array.shape
        self.strips: dict[int, np.ndarray] = {top: array[top : top + PASSED_STRIP_ROWS].copy()
                                              for top in range(0, len(array), PASSED_STRIP_ROWS)}

    def __getitem__(self, rows) -> np.ndarray:  # a slice of rows (strokes are drawn again only on enlarged prints)
        first, last, _ = rows.indices(self.shape[0])
        for top in [top for top in self.strips if top + PASSED_STRIP_ROWS <= first]:
            del self.strips[top]
        strips = [strip[max(first - top, 0) : last - top] for top, strip in self.strips.items() if top < last]
        return np.concatenate(strips) if len(strips) > 1 else strips[0]


class _TextureRows:
    """Rows of the paint's texture as 0.5 + texture / 2, made on demand: the resampler keeps values
    within 0..1, a texture is within -1..1. Kept in half precision (within 0.0002 of the texture's
    strongest values, closer for the rest): from a 12 MP photo it is 70 MB, not 140."""

    def __init__(self, texture: np.ndarray | _RowsAhead):
        self.texture = texture
        self.shape = texture.shape

    def __getitem__(self, key) -> np.ndarray:
        rows = self.texture[key].astype(np.float32)
        rows *= np.float32(0.5)
        rows += np.float32(0.5)
        return rows


class _UnitRows:
    """Rows of an 8-bit map as floats in [0, 1], made when asked: the depth of a 12 MP photo as floats
    is 46 MiB, held through every band."""

    def __init__(self, map8: np.ndarray):
        self.map8 = map8
        self.shape = map8.shape

    def __getitem__(self, rows: slice) -> np.ndarray:
        return self.map8[rows].astype(np.float32) / np.float32(255.0)


class _AlphaAndFill:
    """Rows of (alpha, fill mask), two channels, made on demand so the stack is never built whole."""

    def __init__(self, pane: PaneSource):
        self.pane = pane
        self.shape = (*pane.filled.shape, 2)

    def __getitem__(self, key) -> np.ndarray:
        rows = key[0] if isinstance(key, tuple) else key
        columns = key[1] if isinstance(key, tuple) else slice(None)
        alpha = np.asarray(self.pane.alpha[rows, columns], np.float32)
        return np.stack([alpha, self.pane.filled[rows, columns].astype(np.float32)], axis=-1)
