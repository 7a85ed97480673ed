/*
 * shardbearer/abi/storage.h — the storage plugin kind (SB_KIND_STORAGE).
 *
 * An ordered key-value engine with named keyspaces. One instance per node
 * holds everything: consensus logs and state of every group, shard data,
 * metadata. Keys and values are arbitrary bytes; keys order by unsigned
 * byte-wise comparison (memcmp, shorter first on a tie).
 *
 * Semantics every storage plugin provides (tests/conformance/storage checks
 * them against every plugin):
 *  - Keyspaces are created on demand by name and identified afterwards by a
 *    small integer id, stable for the lifetime of the open instance.
 *  - A write batch applies atomically across keyspaces: after a crash
 *    either all of it or none of it is visible. With `sync` set, an OK
 *    return means the batch survives power loss (durable plugins only;
 *    info flags tell whether the plugin is durable).
 *  - A snapshot is a consistent point-in-time view for gets and iterators.
 *  - Iterators see either the live state as of their creation or a
 *    snapshot; bounds are [lower, upper).
 *  - Bad input is an error, never a crash: an unknown keyspace id is
 *    SB_NOT_FOUND, an invalid keyspace name SB_INVALID_ARGUMENT, a key or
 *    value over the plugin's limit SB_TOO_LARGE.
 *
 * Thread safety: an sb_storage instance is safe for concurrent use by many
 * threads (reads, writes, iterators). A batch or an iterator is used by one
 * thread at a time.
 */
#ifndef SHARDBEARER_ABI_STORAGE_H_
#define SHARDBEARER_ABI_STORAGE_H_

#include "shardbearer/abi/common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sb_storage sb_storage;                   /* opaque, plugin */
typedef struct sb_storage_batch sb_storage_batch;       /* opaque, plugin */
typedef struct sb_storage_snapshot sb_storage_snapshot; /* opaque, plugin */
typedef struct sb_storage_iter sb_storage_iter;         /* opaque, plugin */

/* Capability flags reported by `flags`. */
enum {
  SB_STORAGE_DURABLE = 1u << 0 /* data survives close/crash/power loss */
};

typedef struct sb_storage_iter_options {
  uint32_t struct_size;
  const sb_storage_snapshot* snapshot; /* borrowed; NULL = live state */
  sb_bytes lower_bound;                /* borrowed, copied; len 0 = unbounded */
  sb_bytes upper_bound; /* borrowed, copied; exclusive; len 0 = unbounded */
} sb_storage_iter_options;

typedef struct sb_storage_vtable {
  uint32_t struct_size;

  /* SB_STORAGE_* capability bits. */
  uint32_t flags;

  /* Validate a configuration section without opening anything. Used by
   * `shardbearerd --check-config`. cfg borrowed. */
  sb_code (*check_config)(const sb_config* cfg, sb_status* st);

  /* Open (creating if needed) the store under `data_dir` (borrowed path;
   * the plugin owns what it creates inside it). `host` and its context
   * must stay valid until close. On success *out is owned by the host and
   * released with close. */
  sb_code (*open)(const sb_host_services* host, const char* data_dir,
                  const sb_config* cfg, sb_storage** out, sb_status* st);

  /* Flush and release. All batches, snapshots and iterators must have been
   * released first. NULL is a no-op. */
  void (*close)(sb_storage* db);

  /* Look up or create the keyspace `name` (borrowed, NUL-terminated,
   * [A-Za-z0-9_.-]{1,64}); *out_id identifies it until close. Creating is
   * durable before return. */
  sb_code (*keyspace)(sb_storage* db, const char* name, uint32_t* out_id,
                      sb_status* st);

  /* Call `sink(ctx, name, len)` once per existing keyspace. */
  sb_code (*list_keyspaces)(sb_storage* db, sb_bytes_sink sink, void* ctx,
                            sb_status* st);

  /* Read one key. On SB_OK the value is passed (borrowed) to `sink` exactly
   * once; SB_NOT_FOUND if absent. snapshot borrowed, may be NULL. */
  sb_code (*get)(sb_storage* db, uint32_t keyspace,
                 const sb_storage_snapshot* snapshot, sb_bytes key,
                 sb_bytes_sink sink, void* ctx, sb_status* st);

  /* Single-operation writes: shorthand for a one-entry batch. */
  sb_code (*put)(sb_storage* db, uint32_t keyspace, sb_bytes key,
                 sb_bytes value, int32_t sync, sb_status* st);
  sb_code (*del)(sb_storage* db, uint32_t keyspace, sb_bytes key, int32_t sync,
                 sb_status* st);

  /* --- Write batches. Created empty; owned by host; freed with
   *     batch_free. Keys and values are copied into the batch. --- */
  sb_storage_batch* (*batch_new)(sb_storage* db); /* NULL: out of memory */
  void (*batch_free)(sb_storage_batch* b);
  void (*batch_clear)(sb_storage_batch* b);
  sb_code (*batch_put)(sb_storage_batch* b, uint32_t keyspace, sb_bytes key,
                       sb_bytes value, sb_status* st);
  sb_code (*batch_delete)(sb_storage_batch* b, uint32_t keyspace, sb_bytes key,
                          sb_status* st);
  /* Delete every key in [begin, end). begin == end is an empty range (a
   * no-op that still counts as an operation); begin > end is
   * SB_INVALID_ARGUMENT. */
  sb_code (*batch_delete_range)(sb_storage_batch* b, uint32_t keyspace,
                                sb_bytes begin, sb_bytes end, sb_status* st);
  /* Number of operations and approximate bytes held. */
  size_t (*batch_count)(const sb_storage_batch* b);
  size_t (*batch_bytes)(const sb_storage_batch* b);
  /* Apply atomically. `sync` non-zero: durable before return. The batch is
   * left unchanged (clear it to reuse). A batch made by another instance is
   * SB_INVALID_ARGUMENT. */
  sb_code (*write)(sb_storage* db, sb_storage_batch* b, int32_t sync,
                   sb_status* st);

  /* --- Snapshots: owned by host, released with snapshot_release, after
   *     every iterator created on it. NULL if the plugin cannot make one
   *     (out of memory). --- */
  sb_storage_snapshot* (*snapshot_new)(sb_storage* db);
  void (*snapshot_release)(sb_storage* db, sb_storage_snapshot* s);

  /* --- Iterators: owned by host, freed with iter_free. Created
   *     unpositioned (not valid) until a seek. Key and value spans from
   *     iter_key / iter_value are owned by the plugin and valid until the
   *     iterator moves or is freed; on an invalid iterator they are empty
   *     and moving it is a no-op. --- */
  sb_storage_iter* (*iter_new)(sb_storage* db, uint32_t keyspace,
                               const sb_storage_iter_options* opts,
                               sb_status* st);
  void (*iter_free)(sb_storage_iter* it);
  void (*iter_seek_first)(sb_storage_iter* it);
  void (*iter_seek_last)(sb_storage_iter* it);
  /* Position at the first key >= target. */
  void (*iter_seek)(sb_storage_iter* it, sb_bytes target);
  /* Position at the last key <= target. */
  void (*iter_seek_for_prev)(sb_storage_iter* it, sb_bytes target);
  int32_t (*iter_valid)(const sb_storage_iter* it);
  void (*iter_next)(sb_storage_iter* it);
  void (*iter_prev)(sb_storage_iter* it);
  sb_bytes (*iter_key)(const sb_storage_iter* it);
  sb_bytes (*iter_value)(const sb_storage_iter* it);
  /* SB_OK unless the iterator hit an error (then no longer valid). */
  sb_code (*iter_status)(const sb_storage_iter* it, sb_status* st);

  /* Write a consistent, openable copy of the whole store into `dir`
   * (borrowed path; must not exist yet: SB_ALREADY_EXISTS if it does; its
   * parent must exist). The copy opens with the same plugin's `open`.
   * SB_NOT_SUPPORTED for plugins that cannot. */
  sb_code (*checkpoint)(sb_storage* db, const char* dir, sb_status* st);

  /* Approximate bytes used by keys in [begin, end) of a keyspace (len 0 end
   * = to the end). Cheap, may lag recent writes. */
  sb_code (*approximate_size)(sb_storage* db, uint32_t keyspace, sb_bytes begin,
                              sb_bytes end, uint64_t* out_bytes, sb_status* st);

  /* Make every write so far durable (for writes done with sync = 0). */
  sb_code (*sync)(sb_storage* db, sb_status* st);
} sb_storage_vtable;

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* SHARDBEARER_ABI_STORAGE_H_ */
