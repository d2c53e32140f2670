/* bench/mfg_values: write a mass-production config and values CSV for N devices.
 *
 *   mfg_values N SEED DIR [--tricky]
 *
 * DIR/config.csv: one namespace and 8 keys (serial string, hex2bin MAC, u8/u16/u32/i32 integers,
 * a 64-byte base64 blob, a ~1 KiB PEM-like certificate string). DIR/values.csv: one row per
 * device, deterministic for a SEED. With --tricky the values also hold CSV specials (commas,
 * quotes, newlines, whitespace-only and '#' lines inside values, a value equal to a key name),
 * blank lines, random integer extremes and random lengths, and the
 * config uses REPEAT and a second namespace — for differential runs against mfg_gen.py. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng;

static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void b64(FILE *f, const uint8_t *d, size_t n, int wrap)
{
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    int col = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)d[i] << 16 | (i + 1 < n ? (uint32_t)d[i + 1] << 8 : 0) | (i + 2 < n ? d[i + 2] : 0);
        char o[4] = { a[v >> 18 & 63], a[v >> 12 & 63], i + 1 < n ? a[v >> 6 & 63] : '=', i + 2 < n ? a[v & 63] : '=' };
        fwrite(o, 1, 4, f);
        col += 4;
        if (wrap && col >= wrap && i + 3 < n) {
            fputc('\n', f);
            col = 0;
        }
    }
}

static void rand_bytes(uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        b[i] = (uint8_t)next();
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: mfg_values N SEED DIR [--tricky]\n");
        return 2;
    }
    long n = atol(argv[1]);
    rng = strtoull(argv[2], NULL, 0) * 2654435761u + 88172645463325252ull;
    const char *dir = argv[3];
    int tricky = argc > 4 && !strcmp(argv[4], "--tricky");
    char path[4096];
    snprintf(path, sizeof path, "%s/config.csv", dir);
    FILE *c = fopen(path, "w");
    snprintf(path, sizeof path, "%s/values.csv", dir);
    FILE *v = fopen(path, "w");
    if (!c || !v) {
        perror(dir);
        return 1;
    }
    if (!tricky) {
        fputs("factory,namespace,\nserial,data,string\nmac,data,hex2bin\nhw_rev,data,u8\nbatch,data,u16\n"
              "flags,data,u32\nrssi_cal,data,i32\nblob,data,base64\ncert,data,string\n", c);
        fputs("serial,mac,hw_rev,batch,flags,rssi_cal,blob,cert\n", v);
    } else {
        fputs("factory,namespace,\nserial,data,string\nmac,data,hex2bin\nhw_rev,data,u8,REPEAT\nbatch,data,u16\n"
              "flags,data,u32\ncal,namespace,\nrssi_cal,data,i32\noffset,data,i64\nblob,data,base64\n"
              "note,data,string\ncert,data,string\n", c);
        fputs("serial,mac,hw_rev,batch,flags,meta,rssi_cal,offset,blob,note,cert\n", v);
    }
    uint8_t buf[1024];
    for (long i = 0; i < n; i++) {
        if (tricky && i % 7 == 3)
            fputs(i % 2 ? "\n" : "  \t\r\n", v);  /* blank lines: mfg_gen drops them */
        fprintf(v, "SN%08ld,", 1000 + i);
        rand_bytes(buf, 6);
        for (int k = 0; k < 6; k++)
            fprintf(v, "%02x", buf[k]);
        if (!tricky) {
            fprintf(v, ",%u,%u,%u,%d,", (unsigned)(next() % 256), (unsigned)(next() % 65536),
                    (unsigned)next(), (int32_t)next());
            rand_bytes(buf, 64);
            b64(v, buf, 64, 0);
            fputs(",\"-----BEGIN CERTIFICATE-----\n", v);
            rand_bytes(buf, 700);
            b64(v, buf, 700, 64);
            fputs("\n-----END CERTIFICATE-----\n\"\n", v);
            continue;
        }
        /* tricky: extremes, specials, random sizes */
        static const char *const u8s[] = { "0", "255", "7", "+3", " 12 " };
        static const char *const u32s[] = { "0", "4294967295", "1_000", "42" };
        fprintf(v, ",%s,%u,%s,", i == 0 ? u8s[next() % 5] : "", (unsigned)(next() % 65536), u32s[next() % 4]);
        fputs(next() % 2 ? "\"meta, with comma\"" : "note", v);  /* 'note' = a key name */
        static const char *const i64s[] = { "-9223372036854775808", "9223372036854775807", "-1", "0" };
        fprintf(v, ",%d,%s,", (int32_t)next(), i64s[next() % 4]);
        size_t bl = next() % 200;
        rand_bytes(buf, bl);
        b64(v, buf, bl, 0);
        static const char *const notes[] = { "plain", "\"say \"\"hi\"\"\"", "\"a,b\"", "", "\"two\nlines\"",
                                             "\"blank\n  \t \nline inside\"", "\"hash\n#line inside\nvalue\"" };
        fprintf(v, ",%s,\"-----BEGIN CERTIFICATE-----\n", notes[next() % 7]);
        size_t cl = 100 + next() % 1200;
        rand_bytes(buf, cl > sizeof buf ? sizeof buf : cl);
        b64(v, buf, cl > sizeof buf ? sizeof buf : cl, 64);
        fputs("\n-----END CERTIFICATE-----\"\n", v);
    }
    if (fclose(c) || fclose(v)) {
        perror("write");
        return 1;
    }
    return 0;
}
