/* espforge ESP-IDF compatibility layer: nvs.h / nvs_flash.h / esp_partition.h names and esp_err_t
 * codes over the esf_nvs runtime. ESP-IDF's API is global (handles are integers, partitions are
 * found by label), so this module keeps one registry of partitions, image files and handles,
 * guarded by one mutex; nothing else in the library has global state.
 * Spec nvs-runtime.md §2 (behaviour, error precedence), nvs-encryption.md §3 (keys partition). */
#include "espforge/idf/nvs_flash.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "espforge/nvs.h"
#include "espforge/nvs_crypt.h"
#include "espforge/partition.h"

#define MAX_PARTS 32
#define MAX_FILES 16

typedef struct idf_file {
    char *path;
    esf_flash flash;    /* file backend: the whole image in memory */
    uint64_t saved_ops; /* programs + erases when last written back */
    int refs;
} idf_file;

typedef struct idf_part {
    esp_partition_t pub;  /* first member: esp_partition_t pointers map back to the entry */
    bool used;
    esf_part view;
    idf_file *file;       /* NULL for a registered view */
    esf_nvs *nvs;         /* initialised store or NULL */
} idf_part;

typedef struct idf_handle {
    nvs_handle_t id;
    esf_nvs_handle *h;
    idf_part *part;
} idf_handle;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static idf_part parts[MAX_PARTS];
static idf_file files[MAX_FILES];
static idf_handle *handles;
static size_t nhandles, cap_handles;
static nvs_handle_t next_handle = 1;
static nvs_sec_scheme_t scheme;
static bool scheme_set;

/* ---- error codes */

const char *esp_err_to_name(esp_err_t code)
{
    static const struct { esp_err_t code; const char *name; } names[] = {
        {ESP_OK, "ESP_OK"}, {ESP_FAIL, "ESP_FAIL"}, {ESP_ERR_NO_MEM, "ESP_ERR_NO_MEM"},
        {ESP_ERR_INVALID_ARG, "ESP_ERR_INVALID_ARG"}, {ESP_ERR_INVALID_STATE, "ESP_ERR_INVALID_STATE"},
        {ESP_ERR_INVALID_SIZE, "ESP_ERR_INVALID_SIZE"}, {ESP_ERR_NOT_FOUND, "ESP_ERR_NOT_FOUND"},
        {ESP_ERR_NOT_SUPPORTED, "ESP_ERR_NOT_SUPPORTED"}, {ESP_ERR_NOT_FINISHED, "ESP_ERR_NOT_FINISHED"},
        {ESP_ERR_NOT_ALLOWED, "ESP_ERR_NOT_ALLOWED"}, {ESP_ERR_FLASH_OP_FAIL, "ESP_ERR_FLASH_OP_FAIL"},
        {ESP_ERR_FLASH_OP_TIMEOUT, "ESP_ERR_FLASH_OP_TIMEOUT"},
        {ESP_ERR_NVS_NOT_INITIALIZED, "ESP_ERR_NVS_NOT_INITIALIZED"},
        {ESP_ERR_NVS_NOT_FOUND, "ESP_ERR_NVS_NOT_FOUND"},
        {ESP_ERR_NVS_TYPE_MISMATCH, "ESP_ERR_NVS_TYPE_MISMATCH"},
        {ESP_ERR_NVS_READ_ONLY, "ESP_ERR_NVS_READ_ONLY"},
        {ESP_ERR_NVS_NOT_ENOUGH_SPACE, "ESP_ERR_NVS_NOT_ENOUGH_SPACE"},
        {ESP_ERR_NVS_INVALID_NAME, "ESP_ERR_NVS_INVALID_NAME"},
        {ESP_ERR_NVS_INVALID_HANDLE, "ESP_ERR_NVS_INVALID_HANDLE"},
        {ESP_ERR_NVS_REMOVE_FAILED, "ESP_ERR_NVS_REMOVE_FAILED"},
        {ESP_ERR_NVS_KEY_TOO_LONG, "ESP_ERR_NVS_KEY_TOO_LONG"},
        {ESP_ERR_NVS_PAGE_FULL, "ESP_ERR_NVS_PAGE_FULL"},
        {ESP_ERR_NVS_INVALID_STATE, "ESP_ERR_NVS_INVALID_STATE"},
        {ESP_ERR_NVS_INVALID_LENGTH, "ESP_ERR_NVS_INVALID_LENGTH"},
        {ESP_ERR_NVS_NO_FREE_PAGES, "ESP_ERR_NVS_NO_FREE_PAGES"},
        {ESP_ERR_NVS_VALUE_TOO_LONG, "ESP_ERR_NVS_VALUE_TOO_LONG"},
        {ESP_ERR_NVS_PART_NOT_FOUND, "ESP_ERR_NVS_PART_NOT_FOUND"},
        {ESP_ERR_NVS_NEW_VERSION_FOUND, "ESP_ERR_NVS_NEW_VERSION_FOUND"},
        {ESP_ERR_NVS_XTS_ENCR_FAILED, "ESP_ERR_NVS_XTS_ENCR_FAILED"},
        {ESP_ERR_NVS_XTS_DECR_FAILED, "ESP_ERR_NVS_XTS_DECR_FAILED"},
        {ESP_ERR_NVS_XTS_CFG_FAILED, "ESP_ERR_NVS_XTS_CFG_FAILED"},
        {ESP_ERR_NVS_XTS_CFG_NOT_FOUND, "ESP_ERR_NVS_XTS_CFG_NOT_FOUND"},
        {ESP_ERR_NVS_ENCR_NOT_SUPPORTED, "ESP_ERR_NVS_ENCR_NOT_SUPPORTED"},
        {ESP_ERR_NVS_KEYS_NOT_INITIALIZED, "ESP_ERR_NVS_KEYS_NOT_INITIALIZED"},
        {ESP_ERR_NVS_CORRUPT_KEY_PART, "ESP_ERR_NVS_CORRUPT_KEY_PART"},
        {ESP_ERR_NVS_CONTENT_DIFFERS, "ESP_ERR_NVS_CONTENT_DIFFERS"},
        {ESP_ERR_NVS_WRONG_ENCRYPTION, "ESP_ERR_NVS_WRONG_ENCRYPTION"},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (names[i].code == code)
            return names[i].name;
    return "UNKNOWN ERROR";
}

/* esf code of a handle-level call -> esp_err_t (nvs.h mapping table). */
static esp_err_t map_rc(int rc)
{
    switch (rc) {
    case ESF_OK: return ESP_OK;
    case ESF_ERR_NO_MEM: return ESP_ERR_NO_MEM;
    case ESF_ERR_INVALID_ARG: return ESP_ERR_INVALID_ARG;
    case ESF_ERR_NOT_FOUND: return ESP_ERR_NVS_NOT_FOUND;
    case ESF_ERR_TYPE_MISMATCH: return ESP_ERR_NVS_NOT_FOUND;  /* Q7 */
    case ESF_ERR_READ_ONLY: return ESP_ERR_NVS_READ_ONLY;
    case ESF_ERR_NO_SPACE: return ESP_ERR_NVS_NOT_ENOUGH_SPACE;
    case ESF_ERR_TOO_LONG: return ESP_ERR_NVS_VALUE_TOO_LONG;
    case ESF_ERR_RANGE: return ESP_ERR_NVS_INVALID_LENGTH;
    case ESF_ERR_STATE: return ESP_ERR_NVS_INVALID_STATE;
    case ESF_ERR_CRYPTO: return ESP_ERR_NVS_XTS_ENCR_FAILED;
    default: return ESP_ERR_FLASH_OP_FAIL;
    }
}

/* esf code of esf_nvs_init -> esp_err_t. */
static esp_err_t map_init_rc(int rc)
{
    switch (rc) {
    case ESF_ERR_UNSUPPORTED: return ESP_ERR_NVS_NEW_VERSION_FOUND;
    case ESF_ERR_NO_SPACE: return ESP_ERR_NVS_NO_FREE_PAGES;
    case ESF_ERR_INVALID: return ESP_ERR_NVS_WRONG_ENCRYPTION;
    case ESF_ERR_CRYPTO: return ESP_ERR_NVS_XTS_CFG_FAILED;
    default: return map_rc(rc);
    }
}

/* ---- registry */

static idf_part *find_part(const char *label)
{
    for (int i = 0; i < MAX_PARTS; i++)
        if (parts[i].used && strcmp(parts[i].pub.label, label) == 0)
            return &parts[i];
    return NULL;
}

static idf_part *part_of(const esp_partition_t *p)
{
    for (int i = 0; i < MAX_PARTS; i++)
        if (parts[i].used && &parts[i].pub == p)
            return &parts[i];
    return NULL;
}

static esp_err_t add_part(const char *label, const esf_part *view, idf_file *file,
                          esp_partition_subtype_t subtype, idf_part **out)
{
    if (!label || strlen(label) > 16 || find_part(label))
        return ESP_ERR_INVALID_ARG;
    for (int i = 0; i < MAX_PARTS; i++) {
        idf_part *p = &parts[i];
        if (p->used)
            continue;
        memset(p, 0, sizeof *p);
        p->used = true;
        p->view = *view;
        snprintf(p->view.label, sizeof p->view.label, "%s", label);
        p->file = file;
        p->pub.type = ESP_PARTITION_TYPE_DATA;
        p->pub.subtype = subtype;
        p->pub.address = view->offset;
        p->pub.size = view->size;
        p->pub.erase_size = ESF_SECTOR_SIZE;
        snprintf(p->pub.label, sizeof p->pub.label, "%s", label);
        p->pub.encrypted = (view->flags & ESF_PART_FLAG_ENCRYPTED) != 0;
        p->pub.readonly = (view->flags & ESF_PART_FLAG_READONLY) != 0;
        if (out)
            *out = p;
        return ESP_OK;
    }
    return ESP_ERR_NO_MEM;
}

static uint64_t file_ops(const idf_file *f)
{
    return f->flash.stats.programs + f->flash.stats.erases;
}

/* Write a changed image file back. */
static esp_err_t flush_file(idf_file *f)
{
    if (!f || file_ops(f) == f->saved_ops)
        return ESP_OK;
    if (esf_flash_file_commit(&f->flash, NULL) != ESF_OK)
        return ESP_ERR_FLASH_OP_FAIL;
    f->saved_ops = file_ops(f);
    return ESP_OK;
}

esp_err_t esf_idf_partition_register_file(const char *label, const char *path, uint32_t offset,
                                          uint32_t size, esp_partition_subtype_t subtype)
{
    if (!label || !path)
        return ESP_ERR_INVALID_ARG;
    pthread_mutex_lock(&lock);
    esp_err_t rc = ESP_OK;
    idf_file *f = NULL, *slot = NULL;
    for (int i = 0; i < MAX_FILES; i++) {
        if (files[i].refs && strcmp(files[i].path, path) == 0)
            f = &files[i];
        else if (!files[i].refs && !slot)
            slot = &files[i];
    }
    if (!f) {
        if (!slot) {
            rc = ESP_ERR_NO_MEM;
            goto done;
        }
        memset(slot, 0, sizeof *slot);
        if (!(slot->path = strdup(path))) {
            rc = ESP_ERR_NO_MEM;
            goto done;
        }
        if (esf_flash_file_open(&slot->flash, path, 0, NULL) != ESF_OK) {
            free(slot->path);
            slot->path = NULL;
            rc = ESP_ERR_NOT_FOUND;
            goto done;
        }
        f = slot;
    }
    if (size == 0 && offset < f->flash.size)
        size = f->flash.size - offset;
    esf_part view;
    if (esf_part_init(&view, &f->flash, offset, size, label, NULL) != ESF_OK) {
        rc = ESP_ERR_INVALID_ARG;
    } else if ((rc = add_part(label, &view, f, subtype, NULL)) == ESP_OK) {
        f->refs++;
    }
    if (f->refs == 0) {  /* a new file that did not get a partition */
        esf_flash_close(&f->flash);
        free(f->path);
        f->path = NULL;
    }
done:
    pthread_mutex_unlock(&lock);
    return rc;
}

esp_err_t esf_idf_partition_register(const char *label, const esf_part *part,
                                     esp_partition_subtype_t subtype)
{
    if (!part || !part->flash)
        return ESP_ERR_INVALID_ARG;
    pthread_mutex_lock(&lock);
    esp_err_t rc = add_part(label, part, NULL, subtype, NULL);
    pthread_mutex_unlock(&lock);
    return rc;
}

const esp_partition_t *esp_partition_find_first(esp_partition_type_t type,
                                                esp_partition_subtype_t subtype, const char *label)
{
    const esp_partition_t *found = NULL;
    pthread_mutex_lock(&lock);
    for (int i = 0; i < MAX_PARTS && !found; i++) {
        const esp_partition_t *p = &parts[i].pub;
        if (parts[i].used && (type == ESP_PARTITION_TYPE_ANY || p->type == type) &&
            (subtype == ESP_PARTITION_SUBTYPE_ANY || p->subtype == subtype) &&
            (!label || strcmp(p->label, label) == 0))
            found = p;
    }
    pthread_mutex_unlock(&lock);
    return found;
}

/* ---- handles */

static idf_handle *find_handle(nvs_handle_t id)
{
    for (size_t i = 0; i < nhandles; i++)
        if (handles[i].id == id)
            return &handles[i];
    return NULL;
}

static void drop_handles_of(idf_part *p)
{
    size_t j = 0;
    for (size_t i = 0; i < nhandles; i++) {
        if (handles[i].part == p)
            esf_nvs_close(handles[i].h);
        else
            handles[j++] = handles[i];
    }
    nhandles = j;
}

/* Deinit a partition's store (handles closed) and write its file back. */
static esp_err_t deinit_part(idf_part *p)
{
    drop_handles_of(p);
    esf_nvs_deinit(p->nvs);
    p->nvs = NULL;
    return flush_file(p->file);
}

/* ---- nvs_flash.h */

static esp_err_t init_part(idf_part *p, const nvs_sec_cfg_t *cfg)
{
    if (p->nvs)
        return ESP_OK;  /* already initialised: no reload */
    uint8_t key[ESF_NVS_XTS_KEY_LEN];
    esf_nvs_options opt = {0};
    if (cfg) {
        memcpy(key, cfg->eky, 32);
        memcpy(key + 32, cfg->tky, 32);
        opt.xts_key = key;
    }
    int rc = esf_nvs_init(&p->nvs, &p->view, &opt, NULL);
    memset(key, 0, sizeof key);
    if (rc != ESF_OK)
        return map_init_rc(rc);
    return flush_file(p->file);  /* recovery writes reach the file too */
}

static esp_err_t init_label(const char *label, const nvs_sec_cfg_t *cfg)
{
    if (!label || strlen(label) > NVS_PART_NAME_MAX_SIZE)
        return ESP_ERR_INVALID_ARG;
    pthread_mutex_lock(&lock);
    idf_part *p = find_part(label);
    esp_err_t rc = p ? init_part(p, cfg) : ESP_ERR_NOT_FOUND;
    pthread_mutex_unlock(&lock);
    return rc;
}

esp_err_t nvs_flash_init_partition(const char *label)
{
    return init_label(label, NULL);
}

esp_err_t nvs_flash_secure_init_partition(const char *label, nvs_sec_cfg_t *cfg)
{
    return init_label(label, cfg);
}

esp_err_t nvs_flash_secure_init(nvs_sec_cfg_t *cfg)
{
    return init_label(NVS_DEFAULT_PART_NAME, cfg);
}

esp_err_t nvs_flash_init(void)
{
    pthread_mutex_lock(&lock);
    nvs_sec_scheme_t s = scheme;
    bool have = scheme_set;
    pthread_mutex_unlock(&lock);
    if (!have)
        return nvs_flash_init_partition(NVS_DEFAULT_PART_NAME);
    /* CONFIG_NVS_ENCRYPTION: read the keys through the scheme, generate them if that fails */
    nvs_sec_cfg_t cfg;
    esp_err_t rc = nvs_flash_read_security_cfg_v2(&s, &cfg);
    if (rc != ESP_OK && (rc = nvs_flash_generate_keys_v2(&s, &cfg)) != ESP_OK)
        return rc;
    rc = nvs_flash_secure_init(&cfg);
    memset(&cfg, 0, sizeof cfg);
    return rc;
}

esp_err_t nvs_flash_init_partition_ptr(const esp_partition_t *partition)
{
    if (!partition)
        return ESP_ERR_INVALID_ARG;
    pthread_mutex_lock(&lock);
    idf_part *p = part_of(partition);
    esp_err_t rc = p ? init_part(p, NULL) : ESP_ERR_NOT_FOUND;
    pthread_mutex_unlock(&lock);
    return rc;
}

esp_err_t nvs_flash_deinit_partition(const char *label)
{
    if (!label)
        return ESP_ERR_INVALID_ARG;
    pthread_mutex_lock(&lock);
    idf_part *p = find_part(label);
    esp_err_t rc = p && p->nvs ? deinit_part(p) : ESP_ERR_NVS_NOT_INITIALIZED;
    pthread_mutex_unlock(&lock);
    return rc;
}

esp_err_t nvs_flash_deinit(void)
{
    return nvs_flash_deinit_partition(NVS_DEFAULT_PART_NAME);
}

static esp_err_t erase_part(idf_part *p)
{
    if (p->pub.readonly)
        return ESP_ERR_NOT_ALLOWED;
    esp_err_t rc = deinit_part(p);
    if (rc != ESP_OK)
        return rc;
    if (esf_nvs_erase_partition(&p->view, NULL) != ESF_OK)
        return ESP_ERR_FLASH_OP_FAIL;
    return flush_file(p->file);
}

esp_err_t nvs_flash_erase_partition(const char *label)
{
    if (!label)
        return ESP_ERR_INVALID_ARG;
    pthread_mutex_lock(&lock);
    idf_part *p = find_part(label);
    esp_err_t rc = p ? erase_part(p) : ESP_ERR_NOT_FOUND;
    pthread_mutex_unlock(&lock);
    return rc;
}

esp_err_t nvs_flash_erase(void)
{
    return nvs_flash_erase_partition(NVS_DEFAULT_PART_NAME);
}

esp_err_t nvs_flash_erase_partition_ptr(const esp_partition_t *partition)
{
    if (!partition)
        return ESP_ERR_INVALID_ARG;
    pthread_mutex_lock(&lock);
    idf_part *p = part_of(partition);
    esp_err_t rc = p ? erase_part(p) : ESP_ERR_NOT_FOUND;
    pthread_mutex_unlock(&lock);
    return rc;
}

esp_err_t nvs_flash_generate_keys(const esp_partition_t *partition, nvs_sec_cfg_t *cfg)
{
    if (!partition || !cfg)
        return ESP_ERR_INVALID_ARG;
    uint8_t key[ESF_NVS_XTS_KEY_LEN], page[ESF_NVS_KEYS_PART_SIZE];
    if (esf_nvs_keys_generate(key, NULL) != ESF_OK)
        return ESP_ERR_NVS_XTS_CFG_FAILED;
    esf_nvs_keys_build(page, key);
    pthread_mutex_lock(&lock);
    idf_part *p = part_of(partition);
    esp_err_t rc = ESP_OK;
    if (!p || p->view.size < ESF_NVS_KEYS_PART_SIZE)
        rc = ESP_ERR_INVALID_ARG;
    else if (esf_part_erase_sector(&p->view, 0) != ESF_OK ||
             esf_part_program(&p->view, 0, page, sizeof page) != ESF_OK)
        rc = ESP_ERR_FLASH_OP_FAIL;
    else
        rc = flush_file(p->file);
    pthread_mutex_unlock(&lock);
    if (rc == ESP_OK) {
        memcpy(cfg->eky, key, 32);
        memcpy(cfg->tky, key + 32, 32);
    }
    memset(key, 0, sizeof key);
    memset(page, 0, sizeof page);
    return rc;
}

esp_err_t nvs_flash_read_security_cfg(const esp_partition_t *partition, nvs_sec_cfg_t *cfg)
{
    if (!partition || !cfg)
        return ESP_ERR_INVALID_ARG;
    uint8_t raw[68], key[ESF_NVS_XTS_KEY_LEN];
    pthread_mutex_lock(&lock);
    idf_part *p = part_of(partition);
    int rc = p ? esf_part_read(&p->view, 0, raw, sizeof raw) : ESF_ERR_NOT_FOUND;
    pthread_mutex_unlock(&lock);
    if (rc != ESF_OK)
        return rc == ESF_ERR_NOT_FOUND ? ESP_ERR_INVALID_ARG : ESP_ERR_FLASH_OP_FAIL;
    rc = esf_nvs_keys_parse(raw, sizeof raw, key, partition->label, NULL);
    if (rc == ESF_ERR_NOT_FOUND)
        return ESP_ERR_NVS_KEYS_NOT_INITIALIZED;
    if (rc != ESF_OK)
        return ESP_ERR_NVS_CORRUPT_KEY_PART;
    memcpy(cfg->eky, key, 32);
    memcpy(cfg->tky, key + 32, 32);
    memset(key, 0, sizeof key);
    return ESP_OK;
}

esp_err_t nvs_flash_register_security_scheme(nvs_sec_scheme_t *scheme_cfg)
{
    if (!scheme_cfg)
        return ESP_ERR_INVALID_ARG;
    pthread_mutex_lock(&lock);
    scheme = *scheme_cfg;
    scheme_set = true;
    pthread_mutex_unlock(&lock);
    return ESP_OK;
}

esp_err_t nvs_flash_deregister_security_scheme(void)
{
    pthread_mutex_lock(&lock);
    memset(&scheme, 0, sizeof scheme);
    scheme_set = false;
    pthread_mutex_unlock(&lock);
    return ESP_OK;
}

nvs_sec_scheme_t *nvs_flash_get_default_security_scheme(void)
{
    return scheme_set ? &scheme : NULL;
}

esp_err_t nvs_flash_generate_keys_v2(nvs_sec_scheme_t *s, nvs_sec_cfg_t *cfg)
{
    if (!s || !cfg || !s->nvs_flash_key_gen)
        return ESP_ERR_INVALID_ARG;
    return s->nvs_flash_key_gen(s->scheme_data, cfg);
}

esp_err_t nvs_flash_read_security_cfg_v2(nvs_sec_scheme_t *s, nvs_sec_cfg_t *cfg)
{
    if (!s || !cfg || !s->nvs_flash_read_cfg)
        return ESP_ERR_INVALID_ARG;
    return s->nvs_flash_read_cfg(s->scheme_data, cfg);
}

esp_err_t esf_idf_partition_unregister(const char *label)
{
    if (!label)
        return ESP_ERR_INVALID_ARG;
    pthread_mutex_lock(&lock);
    idf_part *p = find_part(label);
    esp_err_t rc = ESP_ERR_NOT_FOUND;
    if (p) {
        rc = deinit_part(p);
        idf_file *f = p->file;
        memset(p, 0, sizeof *p);
        if (f && --f->refs == 0) {
            esf_flash_close(&f->flash);
            free(f->path);
            memset(f, 0, sizeof *f);
        }
    }
    if (nhandles == 0) {
        free(handles);
        handles = NULL;
        cap_handles = 0;
    }
    pthread_mutex_unlock(&lock);
    return rc;
}

esp_err_t esf_idf_partition_unregister_all(void)
{
    esp_err_t first = ESP_OK;
    for (int i = 0; i < MAX_PARTS; i++) {
        char label[17] = "";
        pthread_mutex_lock(&lock);
        if (parts[i].used)
            snprintf(label, sizeof label, "%s", parts[i].pub.label);
        pthread_mutex_unlock(&lock);
        esp_err_t rc = label[0] ? esf_idf_partition_unregister(label) : ESP_OK;
        if (first == ESP_OK)
            first = rc;
    }
    nvs_flash_deregister_security_scheme();
    return first;
}

/* ---- nvs.h */

esp_err_t nvs_open_from_partition(const char *part_name, const char *namespace_name,
                                  nvs_open_mode_t open_mode, nvs_handle_t *out_handle)
{
    if (!out_handle || !part_name || !namespace_name)
        return ESP_ERR_INVALID_ARG;
    pthread_mutex_lock(&lock);
    esp_err_t rc = ESP_OK;
    bool any = false;
    for (int i = 0; i < MAX_PARTS; i++)
        any = any || (parts[i].used && parts[i].nvs);
    idf_part *p = find_part(part_name);
    esf_nvs_handle *h = NULL;
    if (!any) {
        rc = ESP_ERR_NVS_NOT_INITIALIZED;
    } else if (!p || !p->nvs) {
        rc = ESP_ERR_NVS_PART_NOT_FOUND;
    } else if (open_mode != NVS_READONLY && esf_nvs_is_read_only(p->nvs)) {
        rc = ESP_ERR_NOT_ALLOWED;
    } else if (strlen(namespace_name) > NVS_NS_NAME_MAX_SIZE - 1) {
        rc = ESP_ERR_NVS_KEY_TOO_LONG;
    } else {
        int erc = esf_nvs_open(p->nvs, namespace_name, (esf_nvs_open_mode)open_mode, &h, NULL);
        if (erc == ESF_OK && nhandles == cap_handles) {
            size_t ncap = cap_handles ? cap_handles * 2 : 16;
            idf_handle *nh = realloc(handles, ncap * sizeof *nh);
            if (!nh) {
                esf_nvs_close(h);
                erc = ESF_ERR_NO_MEM;
            } else {
                handles = nh;
                cap_handles = ncap;
            }
        }
        if (erc == ESF_OK) {
            handles[nhandles++] = (idf_handle){next_handle, h, p};
            *out_handle = next_handle++;
            if (p->file)
                flush_file(p->file);  /* a new namespace entry is durable like any write */
        }
        rc = map_rc(erc);
    }
    pthread_mutex_unlock(&lock);
    return rc;
}

esp_err_t nvs_open(const char *namespace_name, nvs_open_mode_t open_mode, nvs_handle_t *out_handle)
{
    return nvs_open_from_partition(NVS_DEFAULT_PART_NAME, namespace_name, open_mode, out_handle);
}

void nvs_close(nvs_handle_t handle)
{
    pthread_mutex_lock(&lock);
    idf_handle *h = find_handle(handle);
    if (h) {
        esf_nvs_close(h->h);
        *h = handles[--nhandles];
    }
    pthread_mutex_unlock(&lock);
}

/* Resolve the handle and validate the key, then run `op` under the lock. */
typedef int (*handle_op)(esf_nvs_handle *h, const char *key, void *ctx);

static esp_err_t with_handle(nvs_handle_t handle, const char *key, bool need_key, handle_op op,
                             void *ctx)
{
    pthread_mutex_lock(&lock);
    idf_handle *ih = find_handle(handle);
    esp_err_t rc;
    if (!ih)
        rc = ESP_ERR_NVS_INVALID_HANDLE;
    else if (need_key && !key)
        rc = ESP_ERR_INVALID_ARG;
    else if (need_key && strlen(key) > NVS_KEY_NAME_MAX_SIZE - 1)
        rc = ESP_ERR_NVS_KEY_TOO_LONG;
    else
        rc = map_rc(op(ih->h, key, ctx));
    pthread_mutex_unlock(&lock);
    return rc;
}

typedef struct prim_ctx {
    uint8_t type;
    uint64_t raw;
    void *out;
} prim_ctx;

static int op_set_prim(esf_nvs_handle *h, const char *key, void *vctx)
{
    prim_ctx *c = vctx;
    return esf_nvs_set_prim(h, key, c->type, c->raw);
}

static int op_get_prim(esf_nvs_handle *h, const char *key, void *vctx)
{
    prim_ctx *c = vctx;
    if (!c->out)
        return ESF_ERR_INVALID_ARG;
    int rc = esf_nvs_get_prim(h, key, c->type, &c->raw);
    if (rc == ESF_OK) {
        unsigned n = esf_nvs_type_size(c->type);
        uint8_t le[8];
        for (unsigned i = 0; i < 8; i++)
            le[i] = (uint8_t)(c->raw >> (8 * i));
        memcpy(c->out, le, n);  /* the host is little-endian like the ESP32 */
    }
    return rc;
}

static esp_err_t set_prim(nvs_handle_t handle, const char *key, uint8_t type, uint64_t raw)
{
    prim_ctx c = {type, raw & (~UINT64_C(0) >> (64 - 8 * esf_nvs_type_size(type))), NULL};
    return with_handle(handle, key, true, op_set_prim, &c);
}

static esp_err_t get_prim(nvs_handle_t handle, const char *key, uint8_t type, void *out)
{
    prim_ctx c = {type, 0, out};
    return with_handle(handle, key, true, op_get_prim, &c);
}

esp_err_t nvs_set_i8(nvs_handle_t h, const char *key, int8_t v) { return set_prim(h, key, NVS_TYPE_I8, (uint64_t)v); }
esp_err_t nvs_set_u8(nvs_handle_t h, const char *key, uint8_t v) { return set_prim(h, key, NVS_TYPE_U8, v); }
esp_err_t nvs_set_i16(nvs_handle_t h, const char *key, int16_t v) { return set_prim(h, key, NVS_TYPE_I16, (uint64_t)v); }
esp_err_t nvs_set_u16(nvs_handle_t h, const char *key, uint16_t v) { return set_prim(h, key, NVS_TYPE_U16, v); }
esp_err_t nvs_set_i32(nvs_handle_t h, const char *key, int32_t v) { return set_prim(h, key, NVS_TYPE_I32, (uint64_t)v); }
esp_err_t nvs_set_u32(nvs_handle_t h, const char *key, uint32_t v) { return set_prim(h, key, NVS_TYPE_U32, v); }
esp_err_t nvs_set_i64(nvs_handle_t h, const char *key, int64_t v) { return set_prim(h, key, NVS_TYPE_I64, (uint64_t)v); }
esp_err_t nvs_set_u64(nvs_handle_t h, const char *key, uint64_t v) { return set_prim(h, key, NVS_TYPE_U64, v); }

esp_err_t nvs_set_float(nvs_handle_t h, const char *key, float v)
{
    if (isnan(v))
        return ESP_ERR_INVALID_ARG;  /* checked before the handle, like ESP-IDF */
    uint32_t raw;
    memcpy(&raw, &v, sizeof raw);
    return set_prim(h, key, NVS_TYPE_FLOAT, raw);
}

esp_err_t nvs_set_double(nvs_handle_t h, const char *key, double v)
{
    if (isnan(v))
        return ESP_ERR_INVALID_ARG;
    uint64_t raw;
    memcpy(&raw, &v, sizeof raw);
    return set_prim(h, key, NVS_TYPE_DOUBLE, raw);
}

esp_err_t nvs_get_i8(nvs_handle_t h, const char *key, int8_t *v) { return get_prim(h, key, NVS_TYPE_I8, v); }
esp_err_t nvs_get_u8(nvs_handle_t h, const char *key, uint8_t *v) { return get_prim(h, key, NVS_TYPE_U8, v); }
esp_err_t nvs_get_i16(nvs_handle_t h, const char *key, int16_t *v) { return get_prim(h, key, NVS_TYPE_I16, v); }
esp_err_t nvs_get_u16(nvs_handle_t h, const char *key, uint16_t *v) { return get_prim(h, key, NVS_TYPE_U16, v); }
esp_err_t nvs_get_i32(nvs_handle_t h, const char *key, int32_t *v) { return get_prim(h, key, NVS_TYPE_I32, v); }
esp_err_t nvs_get_u32(nvs_handle_t h, const char *key, uint32_t *v) { return get_prim(h, key, NVS_TYPE_U32, v); }
esp_err_t nvs_get_i64(nvs_handle_t h, const char *key, int64_t *v) { return get_prim(h, key, NVS_TYPE_I64, v); }
esp_err_t nvs_get_u64(nvs_handle_t h, const char *key, uint64_t *v) { return get_prim(h, key, NVS_TYPE_U64, v); }
esp_err_t nvs_get_float(nvs_handle_t h, const char *key, float *v) { return get_prim(h, key, NVS_TYPE_FLOAT, v); }
esp_err_t nvs_get_double(nvs_handle_t h, const char *key, double *v) { return get_prim(h, key, NVS_TYPE_DOUBLE, v); }

typedef struct var_ctx {
    const void *in;
    void *out;
    size_t len;
    size_t *plen;
} var_ctx;

static int op_set_str(esf_nvs_handle *h, const char *key, void *vctx)
{
    return esf_nvs_set_str(h, key, ((var_ctx *)vctx)->in);
}
static int op_set_blob(esf_nvs_handle *h, const char *key, void *vctx)
{
    var_ctx *c = vctx;
    return esf_nvs_set_blob(h, key, c->in, c->len);
}
static int op_get_str(esf_nvs_handle *h, const char *key, void *vctx)
{
    var_ctx *c = vctx;
    return esf_nvs_get_str(h, key, c->out, c->plen);
}
static int op_get_blob(esf_nvs_handle *h, const char *key, void *vctx)
{
    var_ctx *c = vctx;
    return esf_nvs_get_blob(h, key, c->out, c->plen);
}

esp_err_t nvs_set_str(nvs_handle_t h, const char *key, const char *value)
{
    var_ctx c = {.in = value};
    return with_handle(h, key, true, op_set_str, &c);
}

esp_err_t nvs_set_blob(nvs_handle_t h, const char *key, const void *value, size_t length)
{
    var_ctx c = {.in = value, .len = length};
    return with_handle(h, key, true, op_set_blob, &c);
}

esp_err_t nvs_get_str(nvs_handle_t h, const char *key, char *out, size_t *length)
{
    var_ctx c = {.out = out, .plen = length};
    return with_handle(h, key, true, op_get_str, &c);
}

esp_err_t nvs_get_blob(nvs_handle_t h, const char *key, void *out, size_t *length)
{
    var_ctx c = {.out = out, .plen = length};
    return with_handle(h, key, true, op_get_blob, &c);
}

static int op_find_key(esf_nvs_handle *h, const char *key, void *vctx)
{
    uint8_t t;
    int rc = esf_nvs_find_key(h, key, &t);
    if (rc == ESF_OK && vctx)
        *(nvs_type_t *)vctx = (nvs_type_t)t;
    return rc;
}
static int op_erase_key(esf_nvs_handle *h, const char *key, void *vctx)
{
    (void)vctx;
    return esf_nvs_erase_key(h, key);
}
static int op_erase_all(esf_nvs_handle *h, const char *key, void *vctx)
{
    (void)key;
    (void)vctx;
    return esf_nvs_erase_all(h);
}
static int op_purge_all(esf_nvs_handle *h, const char *key, void *vctx)
{
    (void)key;
    (void)vctx;
    return esf_nvs_purge_all(h);
}
static int op_used_count(esf_nvs_handle *h, const char *key, void *vctx)
{
    (void)key;
    return esf_nvs_get_used_entry_count(h, vctx);
}

esp_err_t nvs_find_key(nvs_handle_t h, const char *key, nvs_type_t *out_type)
{
    return with_handle(h, key, true, op_find_key, out_type);
}

esp_err_t nvs_erase_key(nvs_handle_t h, const char *key)
{
    return with_handle(h, key, true, op_erase_key, NULL);
}

esp_err_t nvs_erase_all(nvs_handle_t h)
{
    return with_handle(h, NULL, false, op_erase_all, NULL);
}

esp_err_t nvs_purge_all(nvs_handle_t h)
{
    return with_handle(h, NULL, false, op_purge_all, NULL);
}

esp_err_t nvs_commit(nvs_handle_t handle)
{
    pthread_mutex_lock(&lock);
    idf_handle *ih = find_handle(handle);
    esp_err_t rc = ih ? flush_file(ih->part->file) : ESP_ERR_NVS_INVALID_HANDLE;
    pthread_mutex_unlock(&lock);
    return rc;
}

esp_err_t nvs_get_used_entry_count(nvs_handle_t h, size_t *used_entries)
{
    if (!used_entries)
        return ESP_ERR_INVALID_ARG;
    *used_entries = 0;
    return with_handle(h, NULL, false, op_used_count, used_entries);
}

esp_err_t nvs_get_stats(const char *part_name, nvs_stats_t *st)
{
    if (!st)
        return ESP_ERR_INVALID_ARG;
    memset(st, 0, sizeof *st);
    pthread_mutex_lock(&lock);
    idf_part *p = find_part(part_name ? part_name : NVS_DEFAULT_PART_NAME);
    esp_err_t rc = ESP_ERR_NVS_NOT_INITIALIZED;
    if (p && p->nvs) {
        esf_nvs_stats s;
        rc = map_rc(esf_nvs_get_stats(p->nvs, &s));
        st->used_entries = s.used_entries;
        st->free_entries = s.free_entries;
        st->available_entries = s.available_entries;
        st->total_entries = s.total_entries;
        st->namespace_count = s.namespace_count;
    }
    pthread_mutex_unlock(&lock);
    return rc;
}

/* nvs_type_t filter -> stored type code (NVS_TYPE_BLOB = v2 blob chunks, 0x42: the same). */
esp_err_t nvs_entry_find(const char *part_name, const char *namespace_name, nvs_type_t type,
                         nvs_iterator_t *out)
{
    if (!part_name || !out)
        return ESP_ERR_INVALID_ARG;
    *out = NULL;
    pthread_mutex_lock(&lock);
    idf_part *p = find_part(part_name);
    esf_nvs_iter *it = NULL;
    esp_err_t rc = ESP_ERR_NVS_NOT_FOUND;
    if (p && p->nvs)
        rc = map_rc(esf_nvs_entry_find(p->nvs, namespace_name, (uint8_t)type, &it));
    pthread_mutex_unlock(&lock);
    *out = (nvs_iterator_t)it;
    return rc;
}

typedef struct find_ctx {
    uint8_t type;
    esf_nvs_iter *it;
} find_ctx;

static int op_find_in_handle(esf_nvs_handle *h, const char *key, void *vctx)
{
    (void)key;
    find_ctx *c = vctx;
    return esf_nvs_entry_find_in_handle(h, c->type, &c->it);
}

esp_err_t nvs_entry_find_in_handle(nvs_handle_t handle, nvs_type_t type, nvs_iterator_t *out)
{
    if (!out)
        return ESP_ERR_INVALID_ARG;
    find_ctx c = {(uint8_t)type, NULL};
    esp_err_t rc = with_handle(handle, NULL, false, op_find_in_handle, &c);
    *out = (nvs_iterator_t)c.it;
    return rc;
}

esp_err_t nvs_entry_next(nvs_iterator_t *iterator)
{
    if (!iterator || !*iterator)
        return ESP_ERR_INVALID_ARG;
    pthread_mutex_lock(&lock);
    esf_nvs_iter *it = (esf_nvs_iter *)*iterator;
    esp_err_t rc = map_rc(esf_nvs_entry_next(&it));
    *iterator = (nvs_iterator_t)it;
    pthread_mutex_unlock(&lock);
    return rc;
}

esp_err_t nvs_entry_info(const nvs_iterator_t iterator, nvs_entry_info_t *out_info)
{
    if (!iterator || !out_info)
        return ESP_ERR_INVALID_ARG;
    esf_nvs_info info;
    esp_err_t rc = map_rc(esf_nvs_entry_info((const esf_nvs_iter *)iterator, &info));
    if (rc == ESP_OK) {
        memcpy(out_info->namespace_name, info.namespace_name, sizeof out_info->namespace_name);
        memcpy(out_info->key, info.key, sizeof out_info->key);
        out_info->type = (nvs_type_t)info.type;
    }
    return rc;
}

void nvs_release_iterator(nvs_iterator_t iterator)
{
    esf_nvs_release_iterator((esf_nvs_iter *)iterator);
}
