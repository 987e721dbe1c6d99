/* A C host for a real reactor published by others (npm @cwasm/lodepng
 * 0.1.9, fetched by fetch.py): encodes images to PNG and decodes them back
 * through the instance, printing what lodepng_reference.py prints when it
 * makes the same calls through wasmtime. */
#include "lodepng.h"

#include <stdio.h>
#include <string.h>

static uint32_t crc32(const uint8_t *p, size_t n) {
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xedb88320u & -(c & 1));
    }
    return ~c;
}

static lodepng_instance *inst;

static uint32_t u32(uint32_t at) {
    uint32_t v;
    memcpy(&v, lodepng_memory(inst, 0) + at, 4);
    return v;
}

static int32_t copy_in(const uint8_t *bytes, size_t n) {
    int32_t at = 0;
    if (lodepng_malloc(inst, (int32_t)n, &at) != KILN_OK) return 0;
    memcpy(lodepng_memory(inst, 0) + at, bytes, n);
    return at;
}

static uint8_t img[256 * 256 * 4], png[1 << 20], raw[256 * 256 * 4];

int main(void) {
    if (lodepng_new(0, &inst) != KILN_OK) {
        printf("lodepng_new: %s\n", inst ? lodepng_message(inst) : "out of memory");
        return 1;
    }
    for (int size = 16; size <= 256; size *= 16) {
        for (int y = 0; y < size; y++)
            for (int x = 0; x < size; x++) {
                uint8_t *o = img + (y * size + x) * 4;
                o[0] = (uint8_t)(x ^ y), o[1] = (uint8_t)(x * 3 + y), o[2] = (uint8_t)((x * y) >> 8), o[3] = 255;
            }
        size_t n = (size_t)size * size * 4;
        int32_t src = copy_in(img, n), meta = 0, err = -1;
        lodepng_malloc(inst, 12, &meta);
        if (lodepng_lodepng_encode32(inst, meta, meta + 4, src, size, size, &err) != KILN_OK) {
            printf("trap: %s", lodepng_message(inst));
            return 1;
        }
        uint32_t png_at = u32((uint32_t)meta), png_len = u32((uint32_t)meta + 4);
        memcpy(png, lodepng_memory(inst, 0) + png_at, png_len);
        printf("encode %dx%d: error %d, %u bytes, crc32 %08x\n", size, size, err, png_len, crc32(png, png_len));
        lodepng_export_free(inst, src);
        lodepng_export_free(inst, (int32_t)png_at);
        src = copy_in(png, png_len);
        lodepng_lodepng_decode32(inst, meta, meta + 4, meta + 8, src, (int32_t)png_len, &err);
        uint32_t w = u32((uint32_t)meta + 4), h = u32((uint32_t)meta + 8);
        memcpy(raw, lodepng_memory(inst, 0) + u32((uint32_t)meta), (size_t)w * h * 4);
        printf("decode: error %d, %ux%u, crc32 %08x, same as input: %s\n", err, w, h, crc32(raw, (size_t)w * h * 4),
               w * h * 4 == n && memcmp(raw, img, n) == 0 ? "yes" : "no");
        lodepng_export_free(inst, src);
        lodepng_export_free(inst, (int32_t)u32((uint32_t)meta));
        lodepng_export_free(inst, meta);
    }
    int32_t src = copy_in((const uint8_t *)"definitely no png", 16), meta = 0, err = 0;
    lodepng_malloc(inst, 12, &meta);
    lodepng_lodepng_decode32(inst, meta, meta + 4, meta + 8, src, 16, &err);
    printf("decode garbage: error %d\n", err);
    lodepng_free(inst);
    return 0;
}
