/* espforge layer 4: mass manufacturing — one factory NVS image per device.
 *
 * Inputs are those of ESP-IDF's tools/mass_mfg/mfg_gen.py (spec nvs-generator.md §7): a config
 * CSV (no header; rows `name,namespace,` or `key,type,encoding[,REPEAT]`) and a values CSV
 * (header = column names, then one row per device). For each device the run assembles the
 * reference's intermediate CSV (`<outdir>/csv/<name>.csv`, CRLF, Python csv.writer quoting),
 * generates the NVS image from it with the nvs_gen module (`<outdir>/bin/<name>.bin`), and,
 * when encrypting with fresh keys, writes `<outdir>/keys/keys-<name>.bin`.
 *
 * The run is two passes over the values file (streamed through a file mapping; per-device state
 * is bounded by the worker window, memory stays flat in the number of devices apart from an
 * 8-byte name hash per device used to refuse duplicate names):
 *  1. validate: every device is assembled and its image generated in memory; nothing is written.
 *     The first bad device stops the run (or, with keep_going, bad devices are recorded and
 *     skipped);
 *  2. write: devices are generated again in parallel (`jobs` threads) and each output file is
 *     written atomically (temporary file + rename). Results are delivered in device order.
 * Images are deterministic: the same inputs give the same bytes (fresh keys apart).
 *
 * The library never prints: progress and per-device results go to the caller's callback.
 */
#ifndef ESPFORGE_MFG_H
#define ESPFORGE_MFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "espforge/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Where the encryption key of each device comes from. */
typedef enum esf_mfg_key_mode {
    ESF_MFG_KEY_NONE = 0,     /* plain images */
    ESF_MFG_KEY_INPUT,        /* one XTS key for every device: esf_mfg_opts.key */
    ESF_MFG_KEY_GEN,          /* a fresh random XTS key per device -> keys/keys-<name>.bin */
    ESF_MFG_KEY_HMAC_GEN,     /* a fresh HMAC key per device (keys/hmac-keys-<name>.bin or
                                 hmac_keyfile) and the XTS key derived from it -> keys/keys-... */
    ESF_MFG_KEY_HMAC_INPUT    /* the XTS key derived from one HMAC key (hmac_key) -> keys/keys-... */
} esf_mfg_key_mode;

/** One device's result, delivered in device order. Strings valid during the callback only. */
typedef struct esf_mfg_device {
    uint64_t index;         /* 0-based device number (values row - 2 after blank lines) */
    uint32_t line;          /* 1-based physical line of the device's row in the values file */
    const char *name;       /* "<prefix>[-<NNNN>]-<fileid>" */
    const char *csv_path;   /* "<outdir>/csv/<name>.csv" (NULL when CSVs are off) */
    const char *bin_path;   /* "<outdir>/bin/<name>.bin" */
    const char *key_path;   /* "<outdir>/keys/keys-<name>.bin", NULL unless fresh keys */
    const char *hmac_key_path; /* HMAC key file written for this device, or NULL */
    uint8_t sha256[32];     /* of the image file */
    bool skipped;           /* resume: image already present with the manifest's hash */
    int rc;                 /* ESF_OK, or the device's error (keep_going) */
    const esf_error *err;   /* the device's error, NULL when rc == ESF_OK */
} esf_mfg_device;

/** Callbacks. `device` is called once per device in device order during the write pass (and for
 *  bad devices during validation when keep_going is set); `progress` after each completed device
 *  of either pass. Returning non-zero from either stops the run with ESF_ERR_CANCELLED. */
typedef struct esf_mfg_callbacks {
    int (*device)(void *ctx, const esf_mfg_device *d);
    int (*progress)(void *ctx, int pass, uint64_t done, uint64_t total_hint);  /* pass 1 or 2 */
    void *ctx;
} esf_mfg_callbacks;

typedef struct esf_mfg_opts {
    const char *conf_path;     /* config CSV */
    const char *values_path;   /* values CSV */
    const char *prefix;        /* output name prefix */
    uint32_t size;             /* partition size, bytes: a multiple of 4096, >= 4096 */
    int version;               /* NVS blob version, 1 or 2 */
    const char *outdir;        /* output directory, used verbatim in paths ("" = current dir) */
    const char *fileid;        /* column naming each device, NULL = counter 1, 2, 3 ... */
    bool prefix_num;           /* insert a zero-padded counter: <prefix>-<NNN>-<fileid> */
    int64_t prefix_num_start;  /* first counter value */
    int prefix_num_len;        /* digits (Python f'{n:0{len}}'), >= 0 */
    esf_mfg_key_mode key_mode;
    uint8_t key[64];           /* ESF_MFG_KEY_INPUT: XTS key (data key || tweak key) */
    const uint8_t *hmac_key;   /* ESF_MFG_KEY_HMAC_INPUT: HMAC key bytes (any length) */
    size_t hmac_key_len;
    const char *hmac_keyfile;  /* ESF_MFG_KEY_HMAC_GEN: name under keys/ for every device's HMAC
                                  key (the reference overwrites it each device); NULL = per device */
    const char *base_dir;      /* directory for relative `file` values; NULL = current directory */
    unsigned jobs;             /* worker threads; 0 = online CPUs */
    bool no_csv;               /* do not write per-device CSVs */
    bool keep_going;           /* skip bad devices instead of stopping */
    bool refuse_existing;      /* mfg_gen twin: an existing csv/bin target is an error */
    bool resume;               /* skip devices whose image exists with the manifest's hash */
    bool manifest;             /* write <outdir>/manifest.csv */
    bool manifest_json;        /* also write <outdir>/manifest.json */
    bool ref_messages;         /* error texts worded as mfg_gen.py's (the drop-in twin) */
    esf_warn_sink warn;        /* warnings (NULL fn: dropped) */
    esf_mfg_callbacks cb;
} esf_mfg_opts;

/** Totals of a run. */
typedef struct esf_mfg_stats {
    uint64_t devices;    /* device rows in the values file */
    uint64_t written;    /* images generated and written */
    uint64_t skipped;    /* resume: kept as they were */
    uint64_t failed;     /* bad devices (keep_going) */
} esf_mfg_stats;

/** Run mass production as described above.
 *  @param[out] stats  may be NULL; filled also on failure (what was done)
 *  @return ESF_OK; ESF_ERR_IO (inputs unreadable, outputs unwritable); ESF_ERR_PARSE /
 *          ESF_ERR_INVALID (config or values file broken: err names file:line:column);
 *          ESF_ERR_EXISTS (refuse_existing and a target exists; or two devices share a name);
 *          generator errors of a device (err located at its values row; nothing written unless
 *          keep_going); ESF_ERR_CANCELLED; ESF_ERR_NO_MEM. With keep_going, bad devices do not
 *          fail the run: they are counted in stats->failed and reported to cb.device. */
int esf_mfg_run(const esf_mfg_opts *opts, esf_mfg_stats *stats, esf_error *err);

/** mfg_gen's exit status for a failed run's error code: 254 for generator input errors (the
 *  reference's InputError, sys.exit(-2)), else 1. */
int esf_mfg_twin_exit_code(int rc);

#ifdef __cplusplus
}
#endif
#endif
