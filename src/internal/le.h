/* espforge internal: little-endian load/store helpers shared by every codec. */
#ifndef ESPFORGE_INTERNAL_LE_H
#define ESPFORGE_INTERNAL_LE_H

#include <stdint.h>
#include <string.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
/* A little-endian host: one unaligned move each (a fixed-size memcpy). GCC does not always merge
 * the byte-wise form below, which then costs a shift and a store per byte on hot paths (the NVS
 * generator's entry headers). */
static inline uint16_t esf_le16(const uint8_t *p) { uint16_t v; memcpy(&v, p, sizeof v); return v; }
static inline uint32_t esf_le32(const uint8_t *p) { uint32_t v; memcpy(&v, p, sizeof v); return v; }
static inline uint64_t esf_le64(const uint8_t *p) { uint64_t v; memcpy(&v, p, sizeof v); return v; }
static inline void esf_put_le16(uint8_t *p, uint16_t v) { memcpy(p, &v, sizeof v); }
static inline void esf_put_le32(uint8_t *p, uint32_t v) { memcpy(p, &v, sizeof v); }
static inline void esf_put_le64(uint8_t *p, uint64_t v) { memcpy(p, &v, sizeof v); }
#else
static inline uint16_t esf_le16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static inline uint32_t esf_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static inline uint64_t esf_le64(const uint8_t *p)
{
    return (uint64_t)esf_le32(p) | ((uint64_t)esf_le32(p + 4) << 32);
}
static inline void esf_put_le16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static inline void esf_put_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24);
}
static inline void esf_put_le64(uint8_t *p, uint64_t v)
{
    esf_put_le32(p, (uint32_t)v); esf_put_le32(p + 4, (uint32_t)(v >> 32));
}
#endif

#endif
