"""The HarfBuzz subsetter through cffi: one binding for the EPUB's font subsets (``fonts.py``) and the
stitched PDF's shared font programs (``fontmerge.py``), the library WeasyPrint itself subsets with."""

from __future__ import annotations

from functools import lru_cache

_HB_CDEF = """
typedef struct hb_blob_t hb_blob_t; typedef struct hb_face_t hb_face_t;
typedef struct hb_set_t hb_set_t; typedef struct hb_subset_input_t hb_subset_input_t;
typedef uint32_t hb_codepoint_t;
hb_blob_t * hb_blob_create_from_file_or_fail (const char *file_name);
hb_face_t * hb_face_create (hb_blob_t *blob, unsigned int index);
void hb_face_destroy (hb_face_t *face);
void hb_blob_destroy (hb_blob_t *blob);
hb_blob_t * hb_face_reference_blob (hb_face_t *face);
const char * hb_blob_get_data (hb_blob_t *blob, unsigned int *length);
hb_codepoint_t hb_tag_from_string (const char *str, int len);
void hb_set_add (hb_set_t *set, hb_codepoint_t codepoint);
void hb_set_add_range (hb_set_t *set, hb_codepoint_t first, hb_codepoint_t last);
hb_subset_input_t * hb_subset_input_create_or_fail (void);
void hb_subset_input_destroy (hb_subset_input_t *input);
hb_set_t * hb_subset_input_glyph_set (hb_subset_input_t *input);
hb_set_t * hb_subset_input_set (hb_subset_input_t *input, int set_type);
void hb_subset_input_set_flags (hb_subset_input_t *input, unsigned value);
hb_face_t * hb_subset_or_fail (hb_face_t *source, const hb_subset_input_t *input);
"""


@lru_cache(maxsize=1)
def harfbuzz():
    """(ffi, libharfbuzz, libharfbuzz-subset), loaded once; OSError when the libraries are missing."""
    from cffi import FFI
    ffi = FFI()
    ffi.cdef(_HB_CDEF)
    return ffi, ffi.dlopen("libharfbuzz.so.0"), ffi.dlopen("libharfbuzz-subset.so.0")


def face_bytes(face) -> bytes:
    """The font file a HarfBuzz face (a subset's result) serialises to; empty if it has none."""
    ffi, hb, _ = harfbuzz()
    out = hb.hb_face_reference_blob(face)
    try:
        length = ffi.new("unsigned int *")
        pointer = hb.hb_blob_get_data(out, length)
        return bytes(ffi.buffer(pointer, length[0])) if pointer != ffi.NULL else b""
    finally:
        hb.hb_blob_destroy(out)
