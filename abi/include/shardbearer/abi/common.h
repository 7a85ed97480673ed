/*
 * shardbearer/abi/common.h — conventions shared by every plugin kind.
 *
 * Shardbearer's host (shardbearerd) loads plugins (shared objects) through
 * this plain-C ABI. A plugin includes only headers under shardbearer/abi/;
 * it never sees a host internal, and no C++ type, exception or allocator
 * crosses the boundary.
 *
 * Rules every kind follows (docs/abi.md is the long form):
 *
 *  1. One entry symbol per shared object, SB_PLUGIN_ENTRY_SYMBOL, of type
 *     sb_plugin_entry_fn. It returns a static descriptor (sb_plugin_info):
 *     magic, ABI major/minor, kind, name, version and the kind's vtable.
 *     The host checks magic, major and kind before calling anything else.
 *
 *  2. Every struct that crosses the boundary starts with `uint32_t
 *     struct_size` (the sizeof the producer compiled against). New members
 *     are only ever appended, and bump SB_ABI_MINOR. A reader checks
 *     SB_HAS_FIELD(ptr, member) before touching a member that a minor
 *     version added. Removing, reordering or retyping a member bumps
 *     SB_ABI_MAJOR; the host refuses a plugin with another major.
 *
 *  3. Data crosses as byte spans (sb_bytes): pointer + length, never NUL-
 *     terminated, valid only for the duration of the call unless the
 *     function's comment says otherwise.
 *
 *  4. Errors: a function that can fail returns an sb_code and fills the
 *     caller-provided sb_status (code + bounded message). The codes below
 *     are fixed forever: never renumbered, only appended.
 *
 *  5. Memory is freed by the side that allocated it. Objects a plugin
 *     creates (handles, batches, iterators) are released through the same
 *     plugin's vtable. Results of variable size are handed to a host
 *     callback (sb_bytes_sink) rather than allocated for the host.
 *
 *  6. Every pointer parameter carries an ownership note: "borrowed" (valid
 *     for the call only; the callee copies what it keeps), "owned by
 *     plugin" / "owned by host" (who frees it), or "static" (lives as long
 *     as the loaded shared object).
 *
 *  7. Thread safety is stated per kind in the kind's header.
 *
 *  8. Output structs (filled by the callee for the caller, e.g. counters or
 *     status): the caller sets struct_size to the size it knows; the callee
 *     writes only the members that fit in it and never past it.
 *
 *  9. An sb_status* parameter may be NULL: the callee then reports only the
 *     code (sb_status_set and sb_status_ok handle NULL).
 *
 * 10. Signals belong to the host. It ignores SIGPIPE before loading any
 *     plugin; plugins install no signal handlers and use MSG_NOSIGNAL (or
 *     rely on the host's SIG_IGN) when writing to sockets.
 *
 * 11. A plugin rejecting a configuration key names it in single quotes
 *     ('sync_wal'): the host finds the key in the message and points the
 *     operator at its file:line:column.
 */
#ifndef SHARDBEARER_ABI_COMMON_H_
#define SHARDBEARER_ABI_COMMON_H_

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ABI version. Major: incompatible change (host refuses other majors).
 * Minor: members appended to structs or vtables; old plugins keep working. */
#define SB_ABI_MAJOR 1
#define SB_ABI_MINOR 1

/* "SBPL" — first field checked in a descriptor. */
#define SB_PLUGIN_MAGIC 0x5342504CU

/* The one symbol every plugin exports. */
#define SB_PLUGIN_ENTRY_SYMBOL "shardbearer_plugin_entry"

/* Visibility for the entry symbol (plugins build with -fvisibility=hidden). */
#if defined(__GNUC__)
#define SB_PLUGIN_EXPORT __attribute__((visibility("default")))
#else
#define SB_PLUGIN_EXPORT
#endif

/* True if the struct at `p`, whose producer set struct_size, contains
 * `member` entirely. Use before reading a member added in a later minor.
 * Needs GCC or Clang (__typeof__); elsewhere, compare struct_size with
 * offsetof + sizeof by hand. */
#define SB_HAS_FIELD(p, member)                                     \
  ((p) != NULL &&                                                   \
   (size_t)(p)->struct_size >= offsetof(__typeof__(*(p)), member) + \
                                   sizeof(((__typeof__(*(p))*)0)->member))

/* ---- Status ------------------------------------------------------------ */

/* Fixed numbering. Append only; never renumber or reuse. */
typedef int32_t sb_code;
enum {
  SB_OK = 0,
  SB_NOT_FOUND = 1,          /* key, keyspace, peer or object absent */
  SB_INVALID_ARGUMENT = 2,   /* caller error: bad config, bad key, bad frame */
  SB_CORRUPTION = 3,         /* stored or received data fails validation */
  SB_IO_ERROR = 4,           /* disk or OS error */
  SB_NOT_SUPPORTED = 5,      /* optional operation the plugin lacks */
  SB_BUSY = 6,               /* transient: try again (queue full, lock held) */
  SB_OUTCOME_UNKNOWN = 7,    /* timed out or lost: the effect may or may not
                                have happened; never reported as failure */
  SB_TOO_LARGE = 8,          /* key, value, frame or batch over a limit */
  SB_ABORTED = 9,            /* refused by protocol state (e.g. not leader) */
  SB_UNAVAILABLE = 10,       /* closed, shutting down, or not ready */
  SB_PERMISSION_DENIED = 11, /* missing privilege (e.g. CAP_BPF) */
  SB_INTERNAL = 12,          /* invariant broken inside the callee */
  SB_ALREADY_EXISTS = 13     /* object to create is already there */
};

#define SB_STATUS_MESSAGE_MAX 512

/* Filled by the callee. Owned by the caller (usually on its stack). The
 * message is NUL-terminated and truncated to fit; empty when code is OK. */
typedef struct sb_status {
  sb_code code;
  char message[SB_STATUS_MESSAGE_MAX];
} sb_status;

/* Helper for plugins and host: set *st (if non-NULL) and return code. */
static inline sb_code sb_status_set(sb_status* st, sb_code code,
                                    const char* fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
static inline sb_code sb_status_set(sb_status* st, sb_code code,
                                    const char* fmt, ...) {
  if (st != NULL) {
    st->code = code;
    st->message[0] = '\0';
    if (fmt != NULL) {
      va_list ap;
      va_start(ap, fmt);
      vsnprintf(st->message, sizeof st->message, fmt, ap);
      va_end(ap);
    }
  }
  return code;
}

static inline sb_code sb_status_ok(sb_status* st) {
  if (st != NULL) {
    st->code = SB_OK;
    st->message[0] = '\0';
  }
  return SB_OK;
}

/* ---- Byte spans -------------------------------------------------------- */

/* A borrowed view of bytes. Never NUL-terminated by contract. */
typedef struct sb_bytes {
  const uint8_t* data; /* borrowed; may be NULL when len == 0 */
  size_t len;
} sb_bytes;

/* Host-provided receiver for variable-size results. The bytes are borrowed:
 * valid only during the call, the receiver copies what it keeps. */
typedef void (*sb_bytes_sink)(void* sink_ctx, const uint8_t* data, size_t len);

/* ---- Plugin configuration --------------------------------------------- */

/* A plugin's TOML section, flattened by the host: nested tables become
 * dotted keys ("tls.ca_file"); arrays become one entry with the elements
 * joined by ',' and type SB_CONFIG_ARRAY. Values are rendered as text.
 * Plugins reject unknown keys with SB_INVALID_ARGUMENT naming the key; the
 * host adds file:line:column of that key to the message. */
enum {
  SB_CONFIG_STRING = 0,
  SB_CONFIG_INTEGER = 1,
  SB_CONFIG_FLOAT = 2,
  SB_CONFIG_BOOL = 3, /* "true" / "false" */
  SB_CONFIG_ARRAY = 4
};

typedef struct sb_config_entry {
  uint32_t struct_size;
  uint32_t type;     /* SB_CONFIG_* */
  const char* key;   /* borrowed, NUL-terminated */
  const char* value; /* borrowed, NUL-terminated */
} sb_config_entry;

typedef struct sb_config {
  uint32_t struct_size;
  const sb_config_entry* entries; /* borrowed array of `count` */
  size_t count;
} sb_config;

/* ---- Host services ----------------------------------------------------- */

enum {
  SB_LOG_TRACE = 0,
  SB_LOG_DEBUG = 1,
  SB_LOG_INFO = 2,
  SB_LOG_WARN = 3,
  SB_LOG_ERROR = 4,
  SB_LOG_CRITICAL = 5
};

/* What the host offers a plugin. Passed (borrowed) when a plugin instance
 * is created; the table and host_ctx stay valid until that instance is
 * destroyed. All functions are thread-safe. */
typedef struct sb_host_services {
  uint32_t struct_size;
  void* host_ctx; /* owned by host; pass back unchanged */
  /* Log `msg` (borrowed, `len` bytes, not NUL-terminated) at `level` under
   * the plugin's name. */
  void (*log)(void* host_ctx, int32_t level, const char* msg, size_t len);
  /* True if a message at `level` would be written (skip formatting if
   * not). */
  int32_t (*log_enabled)(void* host_ctx, int32_t level);
  /* Monotonic clock, nanoseconds. Simulated under test. */
  uint64_t (*monotonic_ns)(void* host_ctx);
  /* Wall clock, nanoseconds since the Unix epoch. Simulated under test. */
  uint64_t (*wall_ns)(void* host_ctx);
} sb_host_services;

/* printf-style logging helper for plugins. */
static inline void sb_logf(const sb_host_services* hs, int32_t level,
                           const char* fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
static inline void sb_logf(const sb_host_services* hs, int32_t level,
                           const char* fmt, ...) {
  char buf[1024];
  int n;
  va_list ap;
  if (hs == NULL || hs->log == NULL) return;
  if (hs->log_enabled != NULL && !hs->log_enabled(hs->host_ctx, level)) return;
  va_start(ap, fmt);
  n = vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  if ((size_t)n >= sizeof buf) n = (int)(sizeof buf - 1);
  hs->log(hs->host_ctx, level, buf, (size_t)n);
}

/* ---- Descriptor -------------------------------------------------------- */

typedef enum sb_plugin_kind {
  SB_KIND_STORAGE = 1,
  SB_KIND_CONSENSUS = 2,
  SB_KIND_TRANSPORT = 3,
  SB_KIND_CLASSIFIER = 4
} sb_plugin_kind;

/* Returned by the entry symbol. Static: lives as long as the loaded shared
 * object; the host never frees or writes it. */
typedef struct sb_plugin_info {
  uint32_t struct_size;
  uint32_t magic;          /* SB_PLUGIN_MAGIC */
  uint16_t abi_major;      /* SB_ABI_MAJOR the plugin was built with */
  uint16_t abi_minor;      /* SB_ABI_MINOR the plugin was built with */
  uint32_t kind;           /* sb_plugin_kind */
  const char* name;        /* static; e.g. "storage-rocksdb" */
  const char* version;     /* static; the plugin's own version, "1.0.0" */
  const char* description; /* static; one line */
  const void* vtable;      /* static; the kind's vtable, e.g.
                              const sb_storage_vtable* */
} sb_plugin_info;

typedef const sb_plugin_info* (*sb_plugin_entry_fn)(void);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* SHARDBEARER_ABI_COMMON_H_ */
